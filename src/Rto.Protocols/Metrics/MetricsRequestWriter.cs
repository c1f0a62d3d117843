using System.Buffers;
using System.Text;

namespace Rto.Protocols.Metrics;

/// <summary>Writes metrics requests (the client side of the protocol).</summary>
public static class MetricsRequestWriter
{
    // Strict: a string with a lone surrogate is refused instead of being sent as U+FFFD.
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>
    /// Writes <c>put &lt;key&gt; &lt;value&gt; &lt;timestamp&gt;\n</c>, the value as Python prints it
    /// (<c>nan</c>, <c>inf</c> and negative timestamps are valid, as they were for the original server).
    /// </summary>
    /// <exception cref="ArgumentException">The key is not a valid metric key, or it is <c>*</c> (which means every key).</exception>
    public static void WritePut(IBufferWriter<byte> output, string key, double value, long timestamp)
    {
        if (key == "*")
        {
            throw new ArgumentException("'*' is not a key: get * reads every key.", nameof(key));
        }

        int keyLength = GetValidatedKeyLength(key);
        Span<byte> span = output.GetSpan(4 + keyLength + MetricsResponseWriter.MaxValueAndTimestampLength);
        "put "u8.CopyTo(span);
        int position = 4 + s_utf8.GetBytes(key, span[4..]);
        position += MetricsResponseWriter.WriteValueAndTimestamp(span[position..], value, timestamp);
        output.Advance(position);
    }

    /// <summary>Writes <c>get &lt;key&gt;\n</c>; the key <c>*</c> asks for every key.</summary>
    /// <exception cref="ArgumentException">The key is neither <c>*</c> nor a valid metric key.</exception>
    public static void WriteGet(IBufferWriter<byte> output, string key)
    {
        int keyLength = key == "*" ? 1 : GetValidatedKeyLength(key);
        Span<byte> span = output.GetSpan(5 + keyLength);
        "get "u8.CopyTo(span);
        int position = 4 + s_utf8.GetBytes(key, span[4..]);
        span[position++] = (byte)'\n';
        output.Advance(position);
    }

    private static int GetValidatedKeyLength(string key)
    {
        ArgumentNullException.ThrowIfNull(key);
        int length = -1;
        try
        {
            length = s_utf8.GetByteCount(key);
        }
        catch (EncoderFallbackException)
        {
            // Reported below with the other invalid keys.
        }

        Span<byte> bytes = length is >= 0 and <= 256 ? stackalloc byte[length] : new byte[Math.Max(length, 0)];
        if (length > 0)
        {
            s_utf8.GetBytes(key, bytes);
        }

        if (length <= 0 || !MetricsRequestParser.IsValidKey(bytes))
        {
            throw new ArgumentException($"'{key}' is not a valid metric key: it must be non-empty UTF-8 text without whitespace or control characters.", nameof(key));
        }

        return length;
    }
}
