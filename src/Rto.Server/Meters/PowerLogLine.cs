using Rto.Protocols;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>
/// A power log line exactly as the original server wrote it, <c>f"{power}|{timestamp}\n"</c>:
/// Python's <c>repr</c> of the float (<c>25.0</c>, <c>1e-05</c>, <c>10.748099999999999</c>) and
/// <c>str(datetime)</c> (<c>2024-04-27 14:00:00</c>, with <c>.ffffff</c> only when the
/// microseconds are not zero).
/// </summary>
internal static class PowerLogLine
{
    /// <summary>The longest line: a float, a bar, a date and time with microseconds, a newline.</summary>
    public const int MaxLength = PythonNumber.MaxFloatLength + 1 + 26 + 1;

    /// <summary>Writes the line, terminator included; returns its length.</summary>
    public static int Format(TimedValue point, Span<byte> destination)
    {
        PythonNumber.TryFormatFloat(point.Value, destination, out int position);
        destination[position++] = (byte)'|';
        position += FormatDateTime(point.Timestamp, destination[position..]);
        destination[position++] = (byte)'\n';
        return position;
    }

    /// <summary>The line as a string, terminator included.</summary>
    public static string ToString(TimedValue point)
    {
        Span<byte> line = stackalloc byte[MaxLength];
        return System.Text.Encoding.ASCII.GetString(line[..Format(point, line)]);
    }

    /// <summary>
    /// Reads a line back: the original's format, or the <c>{power}|{yyyy.MM.dd HH:mm:ss.ffffff}</c>
    /// lines earlier Rto versions wrote.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out TimedValue point)
    {
        point = default;
        int bar = line.IndexOf((byte)'|');
        if (bar <= 0 || !PythonNumber.TryParseFloat(line[..bar], out double value))
        {
            return false;
        }

        ReadOnlySpan<byte> time = line[(bar + 1)..];
        if (!TryParseDateTime(time, out long timestamp) && !MeterTimestamp.TryParse(time, out timestamp))
        {
            return false;
        }

        point = new TimedValue(timestamp, value);
        return true;
    }

    /// <summary>Python's <c>str(datetime)</c>: <c>yyyy-MM-dd HH:mm:ss</c>, then <c>.ffffff</c> when the microseconds are not zero.</summary>
    public static int FormatDateTime(long microseconds, Span<byte> destination)
    {
        // The meters' own timestamp text with the date's dots as dashes, cut before a zero fraction.
        MeterTimestamp.Format(microseconds, destination);
        destination[4] = destination[7] = (byte)'-';
        return microseconds % MeterTimestamp.MicrosecondsPerSecond == 0 ? 19 : MeterTimestamp.Length;
    }

    private static bool TryParseDateTime(ReadOnlySpan<byte> text, out long microseconds)
    {
        microseconds = 0;
        if ((text.Length != 19 && text.Length != 26)
            || text[4] != '-' || text[7] != '-' || text[10] != ' ' || text[13] != ':' || text[16] != ':'
            || (text.Length == 26 && text[19] != '.'))
        {
            return false;
        }

        if (!TryDigits(text[..4], out int year) || !TryDigits(text.Slice(5, 2), out int month) || !TryDigits(text.Slice(8, 2), out int day)
            || !TryDigits(text.Slice(11, 2), out int hour) || !TryDigits(text.Slice(14, 2), out int minute) || !TryDigits(text.Slice(17, 2), out int second))
        {
            return false;
        }

        int fraction = 0;
        if (text.Length == 26 && !TryDigits(text[20..], out fraction))
        {
            return false;
        }

        if (year < 1 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        microseconds = MeterTimestamp.FromDateTime(new DateTime(year, month, day, hour, minute, second)) + fraction;
        return true;
    }

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (byte b in digits)
        {
            if ((uint)(b - '0') > 9)
            {
                return false;
            }

            value = (value * 10) + (b - '0');
        }

        return true;
    }
}
