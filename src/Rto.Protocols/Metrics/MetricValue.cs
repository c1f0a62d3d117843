using System.Globalization;

namespace Rto.Protocols.Metrics;

/// <summary>
/// Parses and prints metric values. Parsing accepts invariant-culture decimal floats with an
/// optional exponent and rejects NaN and infinities. Printing matches Python's <c>repr</c> of a
/// float, which is what the original server sent: the shortest round-trip digits, an integral
/// value keeps one decimal place (<c>10.0</c>), and exponent notation is used below 1e-4 and
/// from 1e16 up (<c>1e-05</c>, <c>1e+16</c>).
/// </summary>
public static class MetricValue
{
    /// <summary>Enough bytes for any value printed by <see cref="TryFormat"/>.</summary>
    public const int MaxFormattedLength = 32;

    // Powers of ten that a double holds exactly; m * 10^e with m < 2^53 and |e| <= 22 is then
    // computed with a single correctly rounded operation (Clinger's fast path).
    private static readonly double[] s_exactPowersOfTen =
    [
        1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11,
        1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22,
    ];

    /// <summary>Parses a finite decimal float from UTF-8 text (<c>10</c>, <c>-0.5</c>, <c>1e-3</c>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out double value)
    {
        if (TryParseSimple(text, out value))
        {
            return true;
        }

        // Rare shapes (many digits, large exponents) take the framework's exact parser.
        return double.TryParse(text, NumberStyles.AllowLeadingSign | NumberStyles.AllowDecimalPoint | NumberStyles.AllowExponent, CultureInfo.InvariantCulture, out value)
            && double.IsFinite(value);
    }

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
        int fractionDigits = 0;
        bool seenPoint = false;
        for (; i < text.Length; i++)
        {
            byte b = text[i];
            uint digit = (uint)(b - '0');
            if (digit <= 9)
            {
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

        // Require at least one digit (a lone "." or sign is not a number).
        int mantissaEnd = i;
        int start = text.Length > 0 && (text[0] == '-' || text[0] == '+') ? 1 : 0;
        if (mantissaEnd - start - (seenPoint ? 1 : 0) <= 0)
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

    /// <summary>
    /// Writes <paramref name="value"/> as UTF-8 the way Python's <c>repr(float)</c> does.
    /// Returns false only when <paramref name="destination"/> is too small
    /// (<see cref="MaxFormattedLength"/> bytes always suffice).
    /// </summary>
    public static bool TryFormat(double value, Span<byte> destination, out int written)
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
        Span<byte> shortest = stackalloc byte[MaxFormattedLength];
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
            else if (b is >= (byte)'0' and <= (byte)'9')
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
            int exponent = int.Parse(shortest[(exponentAt + 1)..], NumberStyles.AllowLeadingSign, CultureInfo.InvariantCulture);
            decimalPoint += exponent;
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
