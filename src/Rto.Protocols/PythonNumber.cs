using System.Globalization;
using System.Text;

namespace Rto.Protocols;

/// <summary>
/// Numbers read and written exactly as Python reads and writes them, which is what the original
/// servers did: <c>float(text)</c>, <c>int(text)</c> and <c>repr(float)</c>. Never allocates.
/// </summary>
/// <remarks>
/// <para><see cref="TryParseFloat"/> accepts what <c>float()</c> accepts: surrounding white space,
/// a sign, digits with single <c>_</c> separators between them (<c>1_000.5</c>; not <c>_1</c>,
/// <c>1__0</c>, <c>1_</c>, <c>1_.5</c>), a decimal point with digits on either side, an exponent,
/// <c>inf</c>, <c>infinity</c> and <c>nan</c> in any case, and non-ASCII decimal digits; too large a
/// value becomes an infinity, as in Python. It does not accept <c>0x10</c>, <c>1,5</c> or an empty string.</para>
/// <para><see cref="TryParseInt64"/> accepts what <c>int()</c> accepts, limited to 64 bits.</para>
/// </remarks>
public static class PythonNumber
{
    /// <summary>Enough bytes for any value written by <see cref="TryFormatFloat"/>.</summary>
    public const int MaxFloatLength = 32;

    /// <summary>Python's ASCII white space (<c>Py_ISSPACE</c>), which <c>float()</c> and <c>int()</c> strip after normalising.</summary>
    private static ReadOnlySpan<byte> AsciiWhiteSpace => " \t\n\v\f\r"u8;

    // Powers of ten that a double holds exactly; m * 10^e with m < 2^53 and |e| <= 22 is then
    // computed with a single correctly rounded operation (Clinger's fast path).
    private static readonly double[] s_exactPowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>Parses UTF-8 text as Python's <c>float()</c> does; NaN and infinities included.</summary>
    public static bool TryParseFloat(ReadOnlySpan<byte> text, out double value)
    {
        // Nearly every value on the wire is a short plain decimal: exact without the general parser.
        if (TryParseSimple(text, out value))
        {
            return true;
        }

        Span<byte> buffer = text.Length <= 128 ? stackalloc byte[text.Length] : new byte[text.Length];
        if (!TryNormalizeNumber(text, buffer, out int length))
        {
            return false;
        }

        ReadOnlySpan<byte> number = buffer[..length].Trim(AsciiWhiteSpace);
        ReadOnlySpan<byte> unsigned = number.IsEmpty || (number[0] != '+' && number[0] != '-') ? number : number[1..];
        if (unsigned.Length is 3 or 8 && (Ascii.EqualsIgnoreCase(unsigned, "inf"u8) || Ascii.EqualsIgnoreCase(unsigned, "infinity"u8)))
        {
            value = number[0] == '-' ? double.NegativeInfinity : double.PositiveInfinity;
            return true;
        }

        if (unsigned.Length == 3 && Ascii.EqualsIgnoreCase(unsigned, "nan"u8))
        {
            // Python's NaN bit patterns (it keeps the sign of -nan; both print as "nan"). .NET's
            // double.NaN has the sign bit set.
            value = BitConverter.Int64BitsToDouble(number[0] == '-' ? unchecked((long)0xFFF8000000000000) : 0x7FF8000000000000);
            return true;
        }

        if (!IsDecimalFloat(unsigned))
        {
            return false;
        }

        // The grammar is Python's; the digits (separators dropped) are exactly rounded, and
        // overflow to ±inf, in .NET's parser.
        Span<byte> digits = buffer[..number.Length];
        int kept = 0;
        foreach (byte b in number)
        {
            if (b != '_')
            {
                digits[kept++] = b;
            }
        }

        return double.TryParse(digits[..kept], NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value);
    }

    /// <summary>Parses UTF-8 text as Python's <c>int()</c> does (base 10), when the value fits in 64 bits.</summary>
    public static bool TryParseInt64(ReadOnlySpan<byte> text, out long value)
    {
        value = 0;
        Span<byte> buffer = text.Length <= 128 ? stackalloc byte[text.Length] : new byte[text.Length];
        if (!TryNormalizeNumber(text, buffer, out int length))
        {
            return false;
        }

        ReadOnlySpan<byte> number = buffer[..length].Trim(AsciiWhiteSpace);
        bool negative = !number.IsEmpty && number[0] == '-';
        if (!number.IsEmpty && (number[0] == '+' || negative))
        {
            number = number[1..];
        }

        if (number.IsEmpty || !IsAsciiDigit(number[0]) || !IsAsciiDigit(number[^1]))
        {
            return false;
        }

        // Magnitudes up to 2^63 (the most negative long) fit in a ulong.
        ulong magnitude = 0;
        const ulong limit = (ulong)long.MaxValue + 1;
        for (int i = 0; i < number.Length; i++)
        {
            byte b = number[i];
            if (b == '_')
            {
                // One separator, between two digits (the ends are digits, checked above).
                if (number[i - 1] == '_')
                {
                    return false;
                }

                continue;
            }

            if (!IsAsciiDigit(b))
            {
                return false;
            }

            uint digit = (uint)(b - '0');
            if (magnitude > (limit - digit) / 10)
            {
                return false;
            }

            magnitude = (magnitude * 10) + digit;
        }

        if (magnitude > (negative ? limit : long.MaxValue))
        {
            return false;
        }

        value = negative ? (long)(0 - magnitude) : (long)magnitude;
        return true;
    }

    /// <summary>
    /// Writes <paramref name="value"/> as UTF-8 the way Python's <c>repr(float)</c> (and
    /// <c>str</c>, and an f-string) does: the shortest digits that read back to the same double, an
    /// integral value with <c>.0</c>, plain notation from 1e-4 up to below 1e16 and exponent
    /// notation outside (<c>1e-05</c>, <c>1e+16</c>), <c>nan</c>, <c>inf</c>, <c>-inf</c>. False only
    /// when <paramref name="destination"/> is too small (<see cref="MaxFloatLength"/> always suffices).
    /// </summary>
    public static bool TryFormatFloat(double value, Span<byte> destination, out int written)
    {
        written = 0;
        if (!double.IsFinite(value))
        {
            ReadOnlySpan<byte> text = double.IsNaN(value) ? "nan"u8 : value > 0 ? "inf"u8 : "-inf"u8;
            if (!text.TryCopyTo(destination))
            {
                return false;
            }

            written = text.Length;
            return true;
        }

        // .NET prints the shortest round-trip digits; only the layout differs from Python's.
        Span<byte> shortest = stackalloc byte[MaxFloatLength];
        value.TryFormat(shortest, out int length, default, CultureInfo.InvariantCulture);
        shortest = shortest[..length];

        Span<byte> digits = stackalloc byte[24];
        int digitCount = 0;
        int decimalPoint = 0;
        bool negative = shortest[0] == '-';
        int exponentAt = shortest.IndexOfAny((byte)'E', (byte)'e');
        ReadOnlySpan<byte> mantissa = exponentAt < 0 ? shortest : shortest[..exponentAt];
        bool seenPoint = false;
        foreach (byte b in mantissa)
        {
            if (b == '.')
            {
                seenPoint = true;
            }
            else if (IsAsciiDigit(b))
            {
                if (digitCount == 0 && b == '0')
                {
                    decimalPoint -= seenPoint ? 1 : 0;
                    continue;
                }

                digits[digitCount++] = b;
                decimalPoint += seenPoint ? 0 : 1;
            }
        }

        if (exponentAt >= 0)
        {
            decimalPoint += int.Parse(shortest[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
        }

        while (digitCount > 0 && digits[digitCount - 1] == '0')
        {
            digitCount--;
        }

        var output = new ByteWriter(destination);
        if (negative)
        {
            output.Write((byte)'-');
        }

        if (digitCount == 0)
        {
            output.Write("0.0"u8);
        }
        else if (decimalPoint > -4 && decimalPoint <= 16)
        {
            if (decimalPoint <= 0)
            {
                output.Write("0."u8);
                output.Repeat((byte)'0', -decimalPoint);
                output.Write(digits[..digitCount]);
            }
            else if (decimalPoint >= digitCount)
            {
                output.Write(digits[..digitCount]);
                output.Repeat((byte)'0', decimalPoint - digitCount);
                output.Write(".0"u8);
            }
            else
            {
                output.Write(digits[..decimalPoint]);
                output.Write((byte)'.');
                output.Write(digits[decimalPoint..digitCount]);
            }
        }
        else
        {
            output.Write(digits[0]);
            if (digitCount > 1)
            {
                output.Write((byte)'.');
                output.Write(digits[1..digitCount]);
            }

            int exponent = decimalPoint - 1;
            output.Write((byte)'e');
            output.Write(exponent < 0 ? (byte)'-' : (byte)'+');
            exponent = Math.Abs(exponent);
            if (exponent < 10)
            {
                output.Write((byte)'0');
            }

            output.WriteInteger(exponent);
        }

        written = output.Position;
        return !output.Overflowed;
    }

    /// <summary>
    /// CPython's preparation of <c>float()</c>/<c>int()</c> input: non-ASCII white space becomes a
    /// space and non-ASCII decimal digits ASCII digits (anything else non-ASCII makes the text
    /// invalid), then every <c>_</c> must sit between two digits; the result keeps the separators.
    /// </summary>
    private static bool TryNormalizeNumber(ReadOnlySpan<byte> text, Span<byte> destination, out int length)
    {
        if (!PythonText.HasNonAscii(text))
        {
            text.CopyTo(destination);
            length = text.Length;
        }
        else if (PythonText.TryNormalize(text, destination, out length))
        {
            for (int i = 0; i < length; i++)
            {
                byte b = destination[i];
                if (b >= 0x80)
                {
                    if (b == PythonText.WhiteSpaceMark)
                    {
                        destination[i] = (byte)' ';
                    }
                    else if (b < PythonText.WhiteSpaceMark)
                    {
                        destination[i] = (byte)('0' + (b - PythonText.DigitMark));
                    }
                    else
                    {
                        return false;
                    }
                }
            }
        }
        else
        {
            return false;
        }

        for (int i = 0; i < length; i++)
        {
            if (destination[i] == '_' && (i == 0 || i == length - 1 || !IsAsciiDigit(destination[i - 1]) || !IsAsciiDigit(destination[i + 1])))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// Python's decimal float without its sign: digits (with <c>_</c> between digits, checked
    /// before), an optional point, at least one digit in all, an optional exponent with digits.
    /// </summary>
    private static bool IsDecimalFloat(ReadOnlySpan<byte> text)
    {
        int i = 0;
        int digits = 0;
        while (i < text.Length && (IsAsciiDigit(text[i]) || text[i] == '_'))
        {
            digits += text[i] == '_' ? 0 : 1;
            i++;
        }

        if (i < text.Length && text[i] == '.')
        {
            i++;
            while (i < text.Length && (IsAsciiDigit(text[i]) || text[i] == '_'))
            {
                digits += text[i] == '_' ? 0 : 1;
                i++;
            }
        }

        if (digits == 0)
        {
            return false;
        }

        if (i < text.Length && (text[i] | 0x20) == 'e')
        {
            i++;
            if (i < text.Length && (text[i] == '+' || text[i] == '-'))
            {
                i++;
            }

            int exponentDigits = 0;
            while (i < text.Length && (IsAsciiDigit(text[i]) || text[i] == '_'))
            {
                exponentDigits += text[i] == '_' ? 0 : 1;
                i++;
            }

            if (exponentDigits == 0)
            {
                return false;
            }
        }

        return i == text.Length;
    }

    /// <summary>A short plain decimal (at most 15 significant digits, exponent within ±22), exactly; false for anything else.</summary>
    private static bool TryParseSimple(ReadOnlySpan<byte> text, out double value)
    {
        value = 0;
        int i = 0;
        bool negative = false;
        if (i < text.Length && (text[i] == '-' || text[i] == '+'))
        {
            negative = text[i] == '-';
            i++;
        }

        ulong mantissa = 0;
        int digits = 0;
        int anyDigits = 0;
        int fractionDigits = 0;
        bool seenPoint = false;
        for (; i < text.Length; i++)
        {
            byte b = text[i];
            uint digit = (uint)(b - '0');
            if (digit <= 9)
            {
                anyDigits++;
                if (digits == 0 && digit == 0)
                {
                    // Leading zeros add no significant digits.
                    fractionDigits += seenPoint ? 1 : 0;
                    continue;
                }

                if (++digits > 15)
                {
                    return false;
                }

                mantissa = (mantissa * 10) + digit;
                fractionDigits += seenPoint ? 1 : 0;
            }
            else if (b == '.' && !seenPoint)
            {
                seenPoint = true;
            }
            else
            {
                break;
            }
        }

        if (anyDigits == 0)
        {
            return false;
        }

        int exponent = 0;
        if (i < text.Length)
        {
            if ((text[i] | 0x20) != 'e')
            {
                return false;
            }

            i++;
            bool negativeExponent = false;
            if (i < text.Length && (text[i] == '-' || text[i] == '+'))
            {
                negativeExponent = text[i] == '-';
                i++;
            }

            if (i == text.Length || text.Length - i > 3)
            {
                return false;
            }

            for (; i < text.Length; i++)
            {
                uint digit = (uint)(text[i] - '0');
                if (digit > 9)
                {
                    return false;
                }

                exponent = (exponent * 10) + (int)digit;
            }

            exponent = negativeExponent ? -exponent : exponent;
        }

        exponent -= fractionDigits;
        double result = mantissa;
        if (mantissa != 0)
        {
            if (exponent < -22 || exponent > 22)
            {
                return false;
            }

            result = exponent < 0 ? result / s_exactPowersOfTen[-exponent] : result * s_exactPowersOfTen[exponent];
        }

        value = negative ? -result : result;
        return true;
    }

    private static bool IsAsciiDigit(byte b) => (uint)(b - '0') <= 9;

    private ref struct ByteWriter(Span<byte> destination)
    {
        private readonly Span<byte> _destination = destination;

        public int Position { get; private set; }

        public bool Overflowed { get; private set; }

        public void Write(byte b)
        {
            if (Position < _destination.Length)
            {
                _destination[Position++] = b;
            }
            else
            {
                Overflowed = true;
            }
        }

        public void Write(scoped ReadOnlySpan<byte> bytes)
        {
            foreach (byte b in bytes)
            {
                Write(b);
            }
        }

        public void Repeat(byte b, int count)
        {
            for (int i = 0; i < count; i++)
            {
                Write(b);
            }
        }

        public void WriteInteger(int value)
        {
            Span<byte> text = stackalloc byte[11];
            value.TryFormat(text, out int length, default, CultureInfo.InvariantCulture);
            Write(text[..length]);
        }
    }
}
