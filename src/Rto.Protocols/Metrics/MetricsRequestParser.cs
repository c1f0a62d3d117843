using System.Text.Unicode;

namespace Rto.Protocols.Metrics;

/// <summary>
/// Parses one metrics request line (without its line terminator); <see cref="MetricsRequestReader"/>
/// frames the stream into lines and calls it. Tokens are separated by runs of spaces or tabs.
/// Anything that is not exactly a valid <c>put</c> or <c>get</c> request is rejected; the server
/// answers those with <see cref="MetricsResponseWriter.WriteError"/>.
/// </summary>
public static class MetricsRequestParser
{
    /// <summary>Parses <paramref name="line"/>; returns false when it is not a valid request.</summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out MetricsRequest request)
    {
        request = default;
        ReadOnlySpan<byte> command = NextToken(ref line);
        ReadOnlySpan<byte> key = NextToken(ref line);
        if (key.IsEmpty)
        {
            return false;
        }

        if (command.SequenceEqual("put"u8))
        {
            ReadOnlySpan<byte> value = NextToken(ref line);
            ReadOnlySpan<byte> timestamp = NextToken(ref line);
            if (!NextToken(ref line).IsEmpty
                || !IsValidKey(key)
                || !MetricValue.TryParse(value, out double parsedValue)
                || !TryParseTimestamp(timestamp, out long parsedTimestamp))
            {
                return false;
            }

            request = new MetricsRequest(MetricsCommand.Put, key, parsedValue, parsedTimestamp);
            return true;
        }

        if (command.SequenceEqual("get"u8))
        {
            if (!NextToken(ref line).IsEmpty)
            {
                return false;
            }

            if (key.Length == 1 && key[0] == (byte)'*')
            {
                request = new MetricsRequest(MetricsCommand.GetAll, default, 0, 0);
                return true;
            }

            if (!IsValidKey(key))
            {
                return false;
            }

            request = new MetricsRequest(MetricsCommand.Get, key, 0, 0);
            return true;
        }

        return false;
    }

    /// <summary>
    /// A key is non-empty valid UTF-8 with no whitespace or control characters, so it always
    /// prints back as one token of a text line.
    /// </summary>
    public static bool IsValidKey(ReadOnlySpan<byte> key)
    {
        if (key.IsEmpty)
        {
            return false;
        }

        bool ascii = true;
        foreach (byte b in key)
        {
            if (b <= 0x20 || b == 0x7F)
            {
                return false;
            }

            ascii &= b < 0x80;
        }

        return ascii || Utf8.IsValid(key);
    }

    internal static bool TryParseTimestamp(ReadOnlySpan<byte> token, out long timestamp)
    {
        timestamp = 0;
        if (token.IsEmpty || token.Length > 19)
        {
            return false;
        }

        ulong result = 0;
        foreach (byte b in token)
        {
            uint digit = (uint)(b - '0');
            if (digit > 9)
            {
                return false;
            }

            result = (result * 10) + digit;
        }

        // 19 digits fit in a ulong; anything above long.MaxValue is out of range.
        if (result > long.MaxValue)
        {
            return false;
        }

        timestamp = (long)result;
        return true;
    }

    private static ReadOnlySpan<byte> NextToken(scoped ref ReadOnlySpan<byte> rest)
    {
        int start = 0;
        while (start < rest.Length && IsSeparator(rest[start]))
        {
            start++;
        }

        int end = start;
        while (end < rest.Length && !IsSeparator(rest[end]))
        {
            end++;
        }

        ReadOnlySpan<byte> token = rest[start..end];
        rest = rest[end..];
        return token;
    }

    private static bool IsSeparator(byte b) => b is (byte)' ' or (byte)'\t';
}
