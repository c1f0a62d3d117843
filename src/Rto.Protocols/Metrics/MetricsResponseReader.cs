using System.Buffers;

namespace Rto.Protocols.Metrics;

/// <summary>One complete reply from a metrics server.</summary>
public readonly struct MetricsResponse
{
    internal MetricsResponse(bool isOk, ReadOnlySequence<byte> body)
    {
        IsOk = isOk;
        Body = body;
    }

    /// <summary>True for an <c>ok</c> reply, false for an <c>error</c> reply.</summary>
    public bool IsOk { get; }

    /// <summary>
    /// The lines between the status line and the terminating empty line, separated by <c>\n</c>
    /// (point lines of a <c>get</c>, or the message of an error). Valid until the reader advances.
    /// </summary>
    public ReadOnlySequence<byte> Body { get; }
}

/// <summary>Reads the server's replies (the client side of the protocol).</summary>
public static class MetricsResponseReader
{
    /// <summary>
    /// Takes the next complete reply from <paramref name="buffer"/>. Returns false when the reply
    /// is not complete yet.
    /// </summary>
    /// <exception cref="FormatException">The bytes are not a metrics reply.</exception>
    public static bool TryRead(ref ReadOnlySequence<byte> buffer, out MetricsResponse response)
    {
        response = default;
        var reader = new SequenceReader<byte>(buffer);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> reply, "\n\n"u8, advancePastDelimiter: true))
        {
            return false;
        }

        SequencePosition? statusEnd = reply.PositionOf((byte)'\n');
        ReadOnlySequence<byte> status = statusEnd is null ? reply : reply.Slice(0, statusEnd.Value);
        ReadOnlySequence<byte> body = statusEnd is null ? default : reply.Slice(reply.GetPosition(1, statusEnd.Value));
        bool isOk;
        if (SequenceEquals(status, "ok"u8))
        {
            isOk = true;
        }
        else if (SequenceEquals(status, "error"u8))
        {
            isOk = false;
        }
        else
        {
            throw new FormatException("The reply does not start with 'ok' or 'error'.");
        }

        response = new MetricsResponse(isOk, body);
        buffer = buffer.Slice(reader.Position);
        return true;
    }

    /// <summary>Parses one point line <c>&lt;key&gt; &lt;value&gt; &lt;timestamp&gt;</c> of a <c>get</c> reply.</summary>
    public static bool TryParsePoint(ReadOnlySpan<byte> line, out ReadOnlySpan<byte> key, out double value, out long timestamp)
    {
        value = 0;
        timestamp = 0;
        int firstSpace = line.IndexOf((byte)' ');
        int lastSpace = line.LastIndexOf((byte)' ');
        key = firstSpace > 0 ? line[..firstSpace] : default;
        return firstSpace > 0
            && lastSpace > firstSpace
            && MetricValue.TryParse(line[(firstSpace + 1)..lastSpace], out value)
            && MetricsRequestParser.TryParseTimestamp(line[(lastSpace + 1)..], out timestamp);
    }

    private static bool SequenceEquals(in ReadOnlySequence<byte> sequence, ReadOnlySpan<byte> expected)
    {
        if (sequence.Length != expected.Length)
        {
            return false;
        }

        if (sequence.IsSingleSegment)
        {
            return sequence.FirstSpan.SequenceEqual(expected);
        }

        Span<byte> copy = stackalloc byte[expected.Length];
        sequence.CopyTo(copy);
        return copy.SequenceEqual(expected);
    }
}
