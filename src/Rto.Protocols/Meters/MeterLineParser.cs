using System.Globalization;
using System.Text;
using System.Text.Unicode;

namespace Rto.Protocols.Meters;

/// <summary>
/// Parses meter lines <c>{meter}\t{yyyy.MM.dd HH:mm:ss.ffffff}\t{value}</c> (without the line
/// terminator; <see cref="MeterLineReader"/> frames the stream) exactly as leniently as the
/// original Python server did. Never allocates, except <see cref="TryParse(ReadOnlySpan{byte}, out MeterReading)"/>.
/// </summary>
/// <remarks>
/// The original read a line with <c>line.strip().split("\t")</c> and wanted three fields: the
/// meter's name, kept as text; <c>datetime.strptime(timestamp, "%Y.%m.%d %H:%M:%S.%f")</c>
/// (<see cref="MeterTimestamp.TryParse"/>); and <c>float(value)</c>
/// (<see cref="PythonNumber.TryParseFloat"/>). So surrounding white space, one-digit fields, one
/// to six fractional digits, <c>_</c> digit separators and white space around the value are
/// accepted, and so are <c>nan</c> and <c>inf</c>: whether such a value is stored is the server's
/// decision, not the line's.
/// </remarks>
public static class MeterLineParser
{
    /// <summary>
    /// Parses one line; false when it is not three TAB-separated fields after stripping white
    /// space, the meter's name is not UTF-8, the timestamp does not parse or the value is not a number.
    /// </summary>
    /// <param name="line">The line without its terminator.</param>
    /// <param name="meter">The first field as sent (UTF-8; the line's surrounding white space is stripped, the field's own is kept); it may be empty.</param>
    /// <param name="timestamp">The timestamp in microseconds (see <see cref="MeterTimestamp"/>).</param>
    /// <param name="value">The value; may be NaN or infinite.</param>
    public static bool TryParse(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> meter, out long timestamp, out double value)
    {
        meter = default;
        timestamp = 0;
        value = 0;
        line = PythonText.Strip(line);
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
        ReadOnlySpan<byte> name = line[..first];
        if (valueText.Contains((byte)'\t')
            || !MeterTimestamp.TryParse(rest[..second], out timestamp)
            || !PythonNumber.TryParseFloat(valueText, out value)
            || (PythonText.HasNonAscii(name) && !Utf8.IsValid(name)))
        {
            return false;
        }

        meter = name;
        return true;
    }

    /// <summary>Parses one line into a <see cref="MeterReading"/> (allocates the meter's name; for tools and tests).</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out MeterReading reading)
    {
        if (!TryParse(line, out ReadOnlySpan<byte> meter, out long timestamp, out double value))
        {
            reading = default;
            return false;
        }

        reading = new MeterReading(Encoding.UTF8.GetString(meter), timestamp, value);
        return true;
    }

    /// <summary>Parses a value as Python's <c>float()</c> does (NaN and infinities included).</summary>
    public static bool TryParseValue(ReadOnlySpan<byte> text, out double value) => PythonNumber.TryParseFloat(text, out value);

    /// <summary>
    /// Parses an IPv4 dotted quad as <c>inet_pton</c> does: four decimal parts, each 0–255 with no
    /// leading zero (<c>010.0.0.1</c> is refused, never read as <c>10.0.0.1</c>).
    /// </summary>
    public static bool TryParseIPv4(ReadOnlySpan<byte> text, out uint ip)
    {
        ip = 0;
        int parts = 0;
        int i = 0;
        while (true)
        {
            int start = i;
            int value = 0;
            while (i < text.Length && (uint)(text[i] - '0') <= 9 && i - start < 3)
            {
                value = value * 10 + (text[i] - '0');
                i++;
            }

            int digits = i - start;
            if (digits == 0 || value > 255 || (digits > 1 && text[start] == '0'))
            {
                return false;
            }

            ip = (ip << 8) | (uint)value;
            if (++parts == 4)
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

    /// <summary>Formats an IPv4 address held as a big-endian number (allocates; for display).</summary>
    public static string FormatIPv4(uint ip) =>
        string.Create(CultureInfo.InvariantCulture, $"{ip >> 24}.{(ip >> 16) & 0xFF}.{(ip >> 8) & 0xFF}.{ip & 0xFF}");
}
