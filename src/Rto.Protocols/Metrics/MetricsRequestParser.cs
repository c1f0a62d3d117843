using System.Text.Unicode;

namespace Rto.Protocols.Metrics;

/// <summary>
/// Parses one metrics request line (without its line terminator); <see cref="MetricsRequestReader"/>
/// frames the stream into lines and calls it. Tokens are separated by runs of spaces or tabs.
/// Values and timestamps are read as the original Python server read them, with <c>float()</c>
/// and <c>int()</c> (see <see cref="PythonNumber"/>); timestamps must fit in 64 bits. Anything
/// that is not exactly a valid <c>put</c> or <c>get</c> request is rejected with the message the
/// server answers (<see cref="MetricsRequest.ErrorMessage"/>).
/// </summary>
public static class MetricsRequestParser
{
    /// <summary>The message of the error reply to a <c>put</c> to the key <c>*</c>.</summary>
    internal static ReadOnlySpan<byte> ReservedKeyMessage => "wrong command: * is not a key, get * reads every key"u8;

    /// <summary>
    /// Parses <paramref name="line"/>; returns false when it is not a valid request, with
    /// <paramref name="request"/> then <see cref="MessageStatus.Malformed"/> and its
    /// <see cref="MetricsRequest.ErrorMessage"/> set.
    /// </summary>
    public static bool TryParse(ReadOnlySpan<byte> line, out MetricsRequest request)
    {
        request = new MetricsRequest(MessageStatus.Malformed);
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

            // "*" would be stored but could only be read back among all keys by "get *".
            if (IsAllKeys(key))
            {
                request = new MetricsRequest(MessageStatus.Malformed, ReservedKeyMessage);
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

            if (IsAllKeys(key))
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

    /// <summary>A timestamp as Python's <c>int()</c> reads it (<c>-5</c>, <c>1_700_000_000</c>, zero-padded), within 64 bits.</summary>
    internal static bool TryParseTimestamp(ReadOnlySpan<byte> token, out long timestamp) => PythonNumber.TryParseInt64(token, out timestamp);

    private static bool IsAllKeys(ReadOnlySpan<byte> key) => key.Length == 1 && key[0] == (byte)'*';

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
