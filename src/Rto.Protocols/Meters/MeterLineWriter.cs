using System.Buffers;
using System.Text;

namespace Rto.Protocols.Meters;

/// <summary>Writes meter lines <c>{meter}\t{yyyy.MM.dd HH:mm:ss.ffffff}\t{value}\n</c>, which <see cref="MeterLineParser"/> reads back exactly. Never allocates.</summary>
public static class MeterLineWriter
{
    /// <summary>The longest line <see cref="Write(IBufferWriter{byte}, ReadOnlySpan{byte}, long, double)"/> produces beyond the meter's name, terminator included.</summary>
    public const int MaxLengthWithoutMeter = 1 + MeterTimestamp.Length + 1 + PythonNumber.MaxFloatLength + 1;

    // Strict: a name with a lone surrogate is refused instead of being sent as U+FFFD.
    private static readonly UTF8Encoding s_utf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    /// <summary>Appends <c>{meter}\t{timestamp}\t{value}\n</c>, the value as Python prints it (<c>229.5</c>, <c>1e-05</c>).</summary>
    /// <exception cref="ArgumentException">
    /// The meter's name is empty, has a TAB or a line break, starts or ends with white space, or is not valid UTF-16.
    /// </exception>
    public static void Write(IBufferWriter<byte> output, in MeterReading reading)
    {
        string meter = reading.Meter;
        int length = GetValidatedLength(meter);
        Span<byte> span = output.GetSpan(length + MaxLengthWithoutMeter);
        s_utf8.GetBytes(meter, span);
        output.Advance(length + FormatTail(reading.Timestamp, reading.Value, span[length..]));
    }

    /// <summary>Appends a line for a meter name already in UTF-8 (the server's own logs, which write back a name as it was received).</summary>
    public static void Write(IBufferWriter<byte> output, ReadOnlySpan<byte> meter, long timestamp, double value)
    {
        Span<byte> span = output.GetSpan(meter.Length + MaxLengthWithoutMeter);
        meter.CopyTo(span);
        output.Advance(meter.Length + FormatTail(timestamp, value, span[meter.Length..]));
    }

    /// <summary>Writes a value as Python's <c>repr</c> does; returns the bytes written.</summary>
    public static int WriteValue(double value, Span<byte> destination) =>
        PythonNumber.TryFormatFloat(value, destination, out int written) ? written : throw new ArgumentException("The destination is too small.", nameof(destination));

    /// <summary>Whether <paramref name="meter"/> can name a meter on the wire: non-empty, no TAB or line break, no white space at either end.</summary>
    public static bool IsValidMeter(ReadOnlySpan<char> meter)
    {
        if (meter.IsEmpty || meter.IndexOfAny('\t', '\n', '\r') >= 0)
        {
            return false;
        }

        // The server strips white space off each line, as the original did, so a name cannot start with it.
        return !PythonText.IsWhiteSpace(meter[0]) && !PythonText.IsWhiteSpace(meter[^1]);
    }

    private static int GetValidatedLength(string meter)
    {
        ArgumentNullException.ThrowIfNull(meter);
        if (IsValidMeter(meter))
        {
            try
            {
                return s_utf8.GetByteCount(meter);
            }
            catch (EncoderFallbackException)
            {
                // Reported below.
            }
        }

        throw new ArgumentException($"'{meter}' cannot name a meter: it must be non-empty UTF-16 text without TAB or line breaks and without white space at either end.", nameof(meter));
    }

    private static int FormatTail(long timestamp, double value, Span<byte> destination)
    {
        int pos = 0;
        destination[pos++] = (byte)'\t';
        MeterTimestamp.Format(timestamp, destination[pos..]);
        pos += MeterTimestamp.Length;
        destination[pos++] = (byte)'\t';
        pos += WriteValue(value, destination[pos..]);
        destination[pos++] = (byte)'\n';
        return pos;
    }
}
