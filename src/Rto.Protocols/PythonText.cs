using System.Text;

namespace Rto.Protocols;

/// <summary>
/// How the original Python servers saw text: which characters <c>str.strip()</c> removes, and the
/// normalisation <c>float()</c>, <c>int()</c> and <c>\d</c> apply to non-ASCII characters. Works on
/// UTF-8 without allocating.
/// </summary>
internal static class PythonText
{
    /// <summary>A non-ASCII whitespace character, after <see cref="TryNormalize"/>.</summary>
    public const byte WhiteSpaceMark = 0x8A;

    /// <summary>A non-ASCII character that is neither a decimal digit nor whitespace, after <see cref="TryNormalize"/>.</summary>
    public const byte OtherMark = 0xFF;

    /// <summary>A non-ASCII decimal digit d becomes <c>DigitMark + d</c> after <see cref="TryNormalize"/>.</summary>
    public const byte DigitMark = 0x80;

    /// <summary>
    /// Python's <c>str.isspace()</c> (and <c>\s</c> of <c>re</c>): .NET's white space plus the
    /// ASCII separators U+001C–U+001F, which Python counts and .NET does not.
    /// </summary>
    public static bool IsWhiteSpace(int codePoint) => codePoint switch
    {
        >= 0x09 and <= 0x0D or >= 0x1C and <= 0x20 => true,
        < 0x80 => false,
        0x85 or 0xA0 or 0x1680 or (>= 0x2000 and <= 0x200A) or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Python's <c>str.strip()</c> on UTF-8 text (invalid UTF-8 at an end is left in place).</summary>
    public static ReadOnlySpan<byte> Strip(ReadOnlySpan<byte> text)
    {
        while (!text.IsEmpty)
        {
            if (text[0] < 0x80)
            {
                if (!IsWhiteSpace(text[0]))
                {
                    break;
                }

                text = text[1..];
            }
            else if (Rune.DecodeFromUtf8(text, out Rune rune, out int length) == System.Buffers.OperationStatus.Done && IsWhiteSpace(rune.Value))
            {
                text = text[length..];
            }
            else
            {
                break;
            }
        }

        while (!text.IsEmpty)
        {
            if (text[^1] < 0x80)
            {
                if (!IsWhiteSpace(text[^1]))
                {
                    break;
                }

                text = text[..^1];
            }
            else if (Rune.DecodeLastFromUtf8(text, out Rune rune, out int length) == System.Buffers.OperationStatus.Done && IsWhiteSpace(rune.Value))
            {
                text = text[..^length];
            }
            else
            {
                break;
            }
        }

        return text;
    }

    /// <summary>
    /// CPython's <c>_PyUnicode_TransformDecimalAndSpaceToASCII</c>, one byte per character: ASCII
    /// stays, a non-ASCII decimal digit d becomes <see cref="DigitMark"/> + d, non-ASCII white space
    /// <see cref="WhiteSpaceMark"/>, anything else <see cref="OtherMark"/>. False for invalid UTF-8
    /// (Python never got that far: decoding failed first). <paramref name="destination"/> needs
    /// <paramref name="text"/>.Length bytes.
    /// </summary>
    public static bool TryNormalize(ReadOnlySpan<byte> text, Span<byte> destination, out int written)
    {
        written = 0;
        while (!text.IsEmpty)
        {
            if (text[0] < 0x80)
            {
                destination[written++] = text[0];
                text = text[1..];
                continue;
            }

            if (Rune.DecodeFromUtf8(text, out Rune rune, out int length) != System.Buffers.OperationStatus.Done)
            {
                return false;
            }

            destination[written++] = IsWhiteSpace(rune.Value) ? WhiteSpaceMark
                : Rune.IsDigit(rune) ? (byte)(DigitMark + (int)Rune.GetNumericValue(rune))
                : OtherMark;
            text = text[length..];
        }

        return true;
    }

    /// <summary>Whether <paramref name="text"/> has a byte outside ASCII.</summary>
    public static bool HasNonAscii(ReadOnlySpan<byte> text) => text.IndexOfAnyExceptInRange((byte)0, (byte)0x7F) >= 0;
}
