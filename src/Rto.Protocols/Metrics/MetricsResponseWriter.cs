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

    /// <summary>The message of <see cref="Error"/>: what the original server answered to anything it could not parse.</summary>
    public static ReadOnlySpan<byte> WrongCommand => "wrong command"u8;

    /// <summary>Writes <c>ok\n\n</c>: the reply to a stored put.</summary>
    public static void WriteStored(IBufferWriter<byte> output) => output.Write(Ok);

    /// <summary>Writes <c>error\nwrong command\n\n</c>: the reply to a malformed request.</summary>
    public static void WriteError(IBufferWriter<byte> output) => output.Write(Error);

    /// <summary>
    /// Writes <c>error\n&lt;message&gt;\n\n</c>, the protocol's error reply (clients raise their
    /// error with the message); <paramref name="message"/> is one line, e.g. <see cref="MetricsRequest.ErrorMessage"/>.
    /// </summary>
    /// <exception cref="ArgumentException">The message is empty or has a line break.</exception>
    public static void WriteError(IBufferWriter<byte> output, ReadOnlySpan<byte> message)
    {
        if (message.IsEmpty || message.IndexOfAny((byte)'\n', (byte)'\r') >= 0)
        {
            throw new ArgumentException("An error message is one non-empty line.", nameof(message));
        }

        Span<byte> span = output.GetSpan(message.Length + 8);
        "error\n"u8.CopyTo(span);
        message.CopyTo(span[6..]);
        "\n\n"u8.CopyTo(span[(6 + message.Length)..]);
        output.Advance(message.Length + 8);
    }

    /// <summary>Starts a <c>get</c> reply: writes <c>ok\n</c>.</summary>
    public static void WriteGetStart(IBufferWriter<byte> output) => output.Write("ok\n"u8);

    /// <summary>Writes one point line <c>&lt;key&gt; &lt;value&gt; &lt;timestamp&gt;\n</c> of a <c>get</c> reply.</summary>
    public static void WritePoint(IBufferWriter<byte> output, ReadOnlySpan<byte> key, double value, long timestamp)
    {
        Span<byte> span = output.GetSpan(key.Length + MaxValueAndTimestampLength);
        key.CopyTo(span);
        output.Advance(key.Length + WriteValueAndTimestamp(span[key.Length..], value, timestamp));
    }

    /// <summary>Room for <c> &lt;value&gt; &lt;timestamp&gt;\n</c>: two spaces, a value, a sign and 19 digits, a newline.</summary>
    internal const int MaxValueAndTimestampLength = MetricValue.MaxFormattedLength + 23;

    /// <summary>Writes <c> &lt;value&gt; &lt;timestamp&gt;\n</c>, the tail shared by put requests and point lines.</summary>
    internal static int WriteValueAndTimestamp(Span<byte> span, double value, long timestamp)
    {
        span[0] = (byte)' ';
        MetricValue.TryFormat(value, span[1..], out int written);
        int position = 1 + written;
        span[position++] = (byte)' ';
        Utf8Formatter.TryFormat(timestamp, span[position..], out written);
        position += written;
        span[position++] = (byte)'\n';
        return position;
    }

    /// <summary>Ends a <c>get</c> reply: writes the terminating empty line.</summary>
    public static void WriteGetEnd(IBufferWriter<byte> output) => output.Write("\n"u8);
}
