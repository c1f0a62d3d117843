using System.Globalization;

namespace Rto.Protocols.Meters;

/// <summary>
/// Parses meter lines <c>{ip}\t{yyyy.MM.dd HH:mm:ss.ffffff}\t{value}</c> (without the line
/// terminator; use <see cref="LineFramer"/> to split the stream). Never allocates.
/// </summary>
public static class MeterLineParser
{
    private const NumberStyles ValueStyle = NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent;

    /// <summary>Parses one line; false when it does not have exactly three valid TAB-separated fields.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out MeterReading reading)
    {
        reading = default;
        int first = line.IndexOf((byte)'\t');
        if (first < 0)
        {
            return false;
        }

        ReadOnlySpan<byte> rest = line[(first + 1)..];
        int second = rest.IndexOf((byte)'\t');
        if (second < 0)
        {
            return false;
        }

        ReadOnlySpan<byte> valueText = rest[(second + 1)..];
        if (valueText.Contains((byte)'\t')
            || !TryParseIPv4(line[..first], out uint ip)
            || !MeterTimestamp.TryParse(rest[..second], out long timestamp)
            || !TryParseValue(valueText, out double value))
        {
            return false;
        }

        reading = new MeterReading(ip, timestamp, value);
        return true;
    }

    /// <summary>Parses an IPv4 dotted quad (four decimal parts of 1–3 digits, each at most 255).</summary>
    public static bool TryParseIPv4(ReadOnlySpan<byte> text, out uint ip)
    {
        ip = 0;
        int parts = 0;
        int i = 0;
        while (true)
        {
            int value = 0;
            int digits = 0;
            while (i < text.Length && (uint)(text[i] - '0') <= 9)
            {
                value = value * 10 + (text[i] - '0');
                digits++;
                i++;
            }

            if (digits is 0 or > 3 || value > 255)
            {
                return false;
            }

            ip = (ip << 8) | (uint)value;
            parts++;
            if (parts == 4)
            {
                return i == text.Length;
            }

            if (i >= text.Length || text[i] != '.')
            {
                return false;
            }

            i++;
        }
    }

    /// <summary>Parses a finite decimal number with a <c>.</c> separator (an exponent is accepted).</summary>
    public static bool TryParseValue(ReadOnlySpan<byte> text, out double value) =>
        double.TryParse(text, ValueStyle, CultureInfo.InvariantCulture, out value) && double.IsFinite(value);

    /// <summary>Formats an IPv4 address held as a big-endian number (allocates; for display).</summary>
    public static string FormatIPv4(uint ip) =>
        string.Create(CultureInfo.InvariantCulture, $"{ip >> 24}.{(ip >> 16) & 0xFF}.{(ip >> 8) & 0xFF}.{ip & 0xFF}");
}
