using System.Buffers;
using System.Buffers.Text;

namespace Rto.Protocols.Meters;

/// <summary>Writes meter lines in the exact format <see cref="MeterLineParser"/> reads. Never allocates.</summary>
public static class MeterLineWriter
{
    /// <summary>The longest line <see cref="Write"/> produces, terminator included.</summary>
    public const int MaxLineLength = 15 + 1 + MeterTimestamp.Length + 1 + 32 + 1;

    /// <summary>Appends <c>{ip}\t{timestamp}\t{value}\n</c>.</summary>
    public static void Write(IBufferWriter<byte> output, in MeterReading reading)
    {
        Span<byte> span = output.GetSpan(MaxLineLength);
        int written = Format(reading, span);
        output.Advance(written);
    }

    /// <summary>Formats the line (with its <c>\n</c>) into <paramref name="destination"/>; returns the bytes written.</summary>
    public static int Format(in MeterReading reading, Span<byte> destination)
    {
        int pos = WriteIPv4(reading.Ip, destination);
        destination[pos++] = (byte)'\t';
        MeterTimestamp.Format(reading.Timestamp, destination[pos..]);
        pos += MeterTimestamp.Length;
        destination[pos++] = (byte)'\t';
        pos += WriteValue(reading.Value, destination[pos..]);
        destination[pos++] = (byte)'\n';
        return pos;
    }

    /// <summary>Writes a value in its shortest round-trip invariant form; returns the bytes written.</summary>
    public static int WriteValue(double value, Span<byte> destination)
    {
        if (!value.TryFormat(destination, out int written, "R", System.Globalization.CultureInfo.InvariantCulture))
        {
            throw new ArgumentException("The destination is too small.", nameof(destination));
        }

        return written;
    }

    private static int WriteIPv4(uint ip, Span<byte> destination)
    {
        int pos = 0;
        for (int shift = 24; shift >= 0; shift -= 8)
        {
            Utf8Formatter.TryFormat((ip >> shift) & 0xFF, destination[pos..], out int written);
            pos += written;
            if (shift > 0)
            {
                destination[pos++] = (byte)'.';
            }
        }

        return pos;
    }
}
