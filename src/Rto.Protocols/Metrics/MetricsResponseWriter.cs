using System.Buffers;
using System.Buffers.Text;

namespace Rto.Protocols.Metrics;

/// <summary>Writes the server's replies to metrics requests.</summary>
public static class MetricsResponseWriter
{
    /// <summary>The whole reply to a stored <c>put</c>, and to a <c>get</c> that found nothing.</summary>
    public static ReadOnlySpan<byte> Ok => "ok\n\n"u8;

    /// <summary>The whole reply to anything malformed.</summary>
    public static ReadOnlySpan<byte> Error => "error\nwrong command\n\n"u8;

    /// <summary>Writes <c>ok\n\n</c>: the reply to a stored put.</summary>
    public static void WriteStored(IBufferWriter<byte> output) => output.Write(Ok);

    /// <summary>Writes <c>error\nwrong command\n\n</c>: the reply to a malformed request.</summary>
    public static void WriteError(IBufferWriter<byte> output) => output.Write(Error);

    /// <summary>Starts a <c>get</c> reply: writes <c>ok\n</c>.</summary>
    public static void WriteGetStart(IBufferWriter<byte> output) => output.Write("ok\n"u8);

    /// <summary>Writes one point line <c>&lt;key&gt; &lt;value&gt; &lt;timestamp&gt;\n</c> of a <c>get</c> reply.</summary>
    public static void WritePoint(IBufferWriter<byte> output, ReadOnlySpan<byte> key, double value, long timestamp)
    {
        // key, two spaces, a value, a 19-digit timestamp and a newline.
        Span<byte> span = output.GetSpan(key.Length + MetricValue.MaxFormattedLength + 24);
        key.CopyTo(span);
        int position = key.Length;
        span[position++] = (byte)' ';
        MetricValue.TryFormat(value, span[position..], out int written);
        position += written;
        span[position++] = (byte)' ';
        Utf8Formatter.TryFormat(timestamp, span[position..], out written);
        position += written;
        span[position++] = (byte)'\n';
        output.Advance(position);
    }

    /// <summary>Ends a <c>get</c> reply: writes the terminating empty line.</summary>
    public static void WriteGetEnd(IBufferWriter<byte> output) => output.Write("\n"u8);
}
