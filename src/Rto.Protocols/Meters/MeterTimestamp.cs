namespace Rto.Protocols.Meters;

/// <summary>
/// The meter timestamp format <c>yyyy.MM.dd HH:mm:ss.ffffff</c> (local time), held as a count of
/// microseconds since 0001-01-01 00:00:00 (that is, <see cref="DateTime.Ticks"/> / 10). It is read
/// as the original server read it, with Python's
/// <c>datetime.strptime(text, "%Y.%m.%d %H:%M:%S.%f")</c>, and written with six fractional digits.
/// Parsing and formatting never allocate.
/// </summary>
public static partial class MeterTimestamp
{
    /// <summary>The length of a formatted timestamp in bytes: 26.</summary>
    public const int Length = 26;

    /// <summary>Microseconds in one second.</summary>
    public const long MicrosecondsPerSecond = 1_000_000;

    /// <summary>
    /// Parses a timestamp as <c>strptime("%Y.%m.%d %H:%M:%S.%f")</c> does: four-digit year, one- or
    /// two-digit month, day, hour, minute and second (a day may also be a space and one digit),
    /// one or more white-space characters between date and time, one to six fractional digits
    /// (<c>.5</c> is half a second), non-ASCII decimal digits where Python's <c>\d</c> takes them,
    /// and nothing before or after. Impossible dates (<c>2024.02.30</c>), year 0 and seconds 60
    /// and 61 are rejected, as <c>datetime</c> rejects them.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out long microseconds) =>
        (text.Length == Length && TryParseCanonical(text, out microseconds)) || TryParseLikeStrptime(text, out microseconds);

    /// <summary>Exactly <c>yyyy.MM.dd HH:mm:ss.ffffff</c> in ASCII: what every meter sends, read without the general matcher.</summary>
    private static bool TryParseCanonical(ReadOnlySpan<byte> text, out long microseconds)
    {
        microseconds = 0;
        if (text[4] != '.' || text[7] != '.' || text[10] != ' '
            || text[13] != ':' || text[16] != ':' || text[19] != '.')
        {
            return false;
        }

        if (!TryDigits(text[..4], out int year) || !TryDigits(text.Slice(5, 2), out int month) || !TryDigits(text.Slice(8, 2), out int day)
            || !TryDigits(text.Slice(11, 2), out int hour) || !TryDigits(text.Slice(14, 2), out int minute) || !TryDigits(text.Slice(17, 2), out int second)
            || !TryDigits(text.Slice(20, 6), out int fraction))
        {
            return false;
        }

        return TryCompose(year, month, day, hour, minute, second, fraction, out microseconds);
    }

    /// <summary>The microseconds of a date and time, if <c>datetime(...)</c> would accept them.</summary>
    private static bool TryCompose(int year, int month, int day, int hour, int minute, int second, int fraction, out long microseconds)
    {
        microseconds = 0;
        if (year is < 1 or > 9999 || month is < 1 or > 12 || day < 1 || day > DateTime.DaysInMonth(year, month) || hour > 23 || minute > 59 || second > 59)
        {
            return false;
        }

        long days = new DateOnly(year, month, day).DayNumber;
        microseconds = (((days * 24 + hour) * 60 + minute) * 60 + second) * MicrosecondsPerSecond + fraction;
        return true;
    }

    /// <summary>Writes <paramref name="microseconds"/> as <c>yyyy.MM.dd HH:mm:ss.ffffff</c> into the first 26 bytes of <paramref name="destination"/>.</summary>
    public static void Format(long microseconds, Span<byte> destination)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(destination.Length, Length, nameof(destination));
        var time = new DateTime(microseconds * 10);
        WriteDigits(destination[..4], time.Year);
        destination[4] = (byte)'.';
        WriteDigits(destination.Slice(5, 2), time.Month);
        destination[7] = (byte)'.';
        WriteDigits(destination.Slice(8, 2), time.Day);
        destination[10] = (byte)' ';
        WriteDigits(destination.Slice(11, 2), time.Hour);
        destination[13] = (byte)':';
        WriteDigits(destination.Slice(14, 2), time.Minute);
        destination[16] = (byte)':';
        WriteDigits(destination.Slice(17, 2), time.Second);
        destination[19] = (byte)'.';
        WriteDigits(destination.Slice(20, 6), (int)(microseconds % MicrosecondsPerSecond));
    }

    /// <summary>The timestamp as a <see cref="DateTime"/> of kind <see cref="DateTimeKind.Local"/>.</summary>
    public static DateTime ToDateTime(long microseconds) => new(microseconds * 10, DateTimeKind.Local);

    /// <summary>The timestamp of <paramref name="time"/>, truncated to whole microseconds.</summary>
    public static long FromDateTime(DateTime time) => time.Ticks / 10;

    /// <summary>The timestamp as a string (for logs and JSON; allocates).</summary>
    public static string ToString(long microseconds)
    {
        Span<byte> text = stackalloc byte[Length];
        Format(microseconds, text);
        return System.Text.Encoding.ASCII.GetString(text);
    }

    private static bool TryDigits(ReadOnlySpan<byte> digits, out int value)
    {
        value = 0;
        foreach (byte b in digits)
        {
            uint d = (uint)(b - '0');
            if (d > 9)
            {
                return false;
            }

            value = value * 10 + (int)d;
        }

        return true;
    }

    private static void WriteDigits(Span<byte> destination, int value)
    {
        for (int i = destination.Length - 1; i >= 0; i--)
        {
            destination[i] = (byte)('0' + value % 10);
            value /= 10;
        }
    }
}
