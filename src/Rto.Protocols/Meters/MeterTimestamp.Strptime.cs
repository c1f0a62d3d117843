namespace Rto.Protocols.Meters;

/// <summary>The general case of <see cref="MeterTimestamp.TryParse"/>: CPython's <c>_strptime</c> regular expression, matched by hand.</summary>
public static partial class MeterTimestamp
{
    // The directives of "%Y.%m.%d %H:%M:%S.%f" as Python 3 compiles them, alternatives in order:
    //   %m 1[0-2]|0[1-9]|[1-9]      %d 3[01]|[12]\d|0[1-9]|[1-9]| [1-9]
    //   %H 2[0-3]|[0-1]\d|\d        %M [0-5]\d|\d        %S 6[0-1]|[0-5]\d|\d
    //   %Y \d\d\d\d                 %f [0-9]{1,6}        ' ' \s+
    // The expression is matched (not fully matched) and the text must end where the match ends.
    private static readonly CharClass[][] s_month = [[Range('1', '1'), Range('0', '2')], [Range('0', '0'), Range('1', '9')], [Range('1', '9')]];
    private static readonly CharClass[][] s_day = [[Range('3', '3'), Range('0', '1')], [Range('1', '2'), CharClass.Digit], [Range('0', '0'), Range('1', '9')], [Range('1', '9')], [Range(' ', ' '), Range('1', '9')]];
    private static readonly CharClass[][] s_hour = [[Range('2', '2'), Range('0', '3')], [Range('0', '1'), CharClass.Digit], [CharClass.Digit]];
    private static readonly CharClass[][] s_minute = [[Range('0', '5'), CharClass.Digit], [CharClass.Digit]];
    private static readonly CharClass[][] s_second = [[Range('6', '6'), Range('0', '1')], [Range('0', '5'), CharClass.Digit], [CharClass.Digit]];

    private enum Field
    {
        Year,
        Month,
        Day,
        Hour,
        Minute,
        Second,
        Fraction,
    }

    private static bool TryParseLikeStrptime(ReadOnlySpan<byte> text, out long microseconds)
    {
        microseconds = 0;
        if (text.IsEmpty)
        {
            return false;
        }

        // Non-ASCII digits and white space become one marked byte each (see PythonText).
        Span<byte> normalized = text.Length <= 256 ? stackalloc byte[text.Length] : new byte[text.Length];
        int length = text.Length;
        if (PythonText.HasNonAscii(text))
        {
            if (!PythonText.TryNormalize(text, normalized, out length))
            {
                return false;
            }
        }
        else
        {
            text.CopyTo(normalized);
        }

        ReadOnlySpan<byte> s = normalized[..length];
        Span<int> fields = stackalloc int[7];
        int end = Match(s, 0, 0, fields);
        return end == s.Length
            && TryCompose(fields[(int)Field.Year], fields[(int)Field.Month], fields[(int)Field.Day], fields[(int)Field.Hour], fields[(int)Field.Minute], fields[(int)Field.Second], fields[(int)Field.Fraction], out microseconds);
    }

    /// <summary>Matches the pattern from step <paramref name="step"/> at <paramref name="at"/>, backtracking as <c>re</c> does; returns where the match ends, or -1.</summary>
    private static int Match(ReadOnlySpan<byte> s, int at, int step, Span<int> fields)
    {
        switch (step)
        {
            case 0:
                for (int i = 0; i < 4; i++)
                {
                    if (at + i >= s.Length || !CharClass.Digit.Matches(s[at + i]))
                    {
                        return -1;
                    }
                }

                fields[(int)Field.Year] = Number(s.Slice(at, 4));
                return Match(s, at + 4, 1, fields);
            case 1 or 3 or 11:
                return at < s.Length && s[at] == '.' ? Match(s, at + 1, step + 1, fields) : -1;
            case 7 or 9:
                return at < s.Length && s[at] == ':' ? Match(s, at + 1, step + 1, fields) : -1;
            case 2:
                return Alternatives(s, at, s_month, Field.Month, step, fields);
            case 4:
                return Alternatives(s, at, s_day, Field.Day, step, fields);
            case 5:
                int spaces = 0;
                while (at + spaces < s.Length && IsWhiteSpace(s[at + spaces]))
                {
                    spaces++;
                }

                // \s+ is greedy: the longest run first, then shorter ones.
                for (int taken = spaces; taken >= 1; taken--)
                {
                    int end = Match(s, at + taken, step + 1, fields);
                    if (end >= 0)
                    {
                        return end;
                    }
                }

                return -1;
            case 6:
                return Alternatives(s, at, s_hour, Field.Hour, step, fields);
            case 8:
                return Alternatives(s, at, s_minute, Field.Minute, step, fields);
            case 10:
                return Alternatives(s, at, s_second, Field.Second, step, fields);
            default:
                // %f, the last directive: [0-9]{1,6}, greedy; nothing follows it in the pattern.
                int digits = 0;
                int fraction = 0;
                while (digits < 6 && at + digits < s.Length && (uint)(s[at + digits] - '0') <= 9)
                {
                    fraction = (fraction * 10) + (s[at + digits] - '0');
                    digits++;
                }

                if (digits == 0)
                {
                    return -1;
                }

                // Python pads the digits on the right: ".5" is 500000 microseconds.
                for (int i = digits; i < 6; i++)
                {
                    fraction *= 10;
                }

                fields[(int)Field.Fraction] = fraction;
                return at + digits;
        }
    }

    private static int Alternatives(ReadOnlySpan<byte> s, int at, CharClass[][] alternatives, Field field, int step, Span<int> fields)
    {
        foreach (CharClass[] alternative in alternatives)
        {
            if (at + alternative.Length > s.Length)
            {
                continue;
            }

            bool matches = true;
            for (int i = 0; i < alternative.Length && matches; i++)
            {
                matches = alternative[i].Matches(s[at + i]);
            }

            if (!matches)
            {
                continue;
            }

            fields[(int)field] = Number(s.Slice(at, alternative.Length));
            int end = Match(s, at + alternative.Length, step + 1, fields);
            if (end >= 0)
            {
                return end;
            }
        }

        return -1;
    }

    /// <summary><c>int()</c> of a matched group: its digits (ASCII or marked non-ASCII); a leading space (<c>" 5"</c>) is ignored.</summary>
    private static int Number(ReadOnlySpan<byte> digits)
    {
        int value = 0;
        foreach (byte b in digits)
        {
            if (b != ' ')
            {
                value = (value * 10) + (b >= PythonText.DigitMark ? b - PythonText.DigitMark : b - '0');
            }
        }

        return value;
    }

    /// <summary>Python's <c>\s</c>: ASCII white space including U+001C–U+001F, or a marked non-ASCII one.</summary>
    private static bool IsWhiteSpace(byte b) => b == PythonText.WhiteSpaceMark || (b < 0x80 && PythonText.IsWhiteSpace(b));

    private static CharClass Range(char low, char high) => new((byte)low, (byte)high, AnyDigit: false);

    /// <summary>An ASCII range, or <c>\d</c> (any decimal digit, ASCII or marked non-ASCII).</summary>
    private readonly record struct CharClass(byte Low, byte High, bool AnyDigit)
    {
        public static readonly CharClass Digit = new(0, 0, AnyDigit: true);

        public bool Matches(byte b) => AnyDigit
            ? (uint)(b - '0') <= 9 || (b >= PythonText.DigitMark && b < PythonText.WhiteSpaceMark)
            : b >= Low && b <= High;
    }
}
