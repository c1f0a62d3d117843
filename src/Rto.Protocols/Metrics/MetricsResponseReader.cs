using System.Buffers;

namespace Rto.Protocols.Metrics;

/// <summary>One complete reply from a metrics server, as <see cref="MetricsResponseReader"/> read it.</summary>
public readonly struct MetricsResponse
{
    internal MetricsResponse(MessageStatus status, bool isOk, ReadOnlySequence<byte> body)
    {
        Status = status;
        IsOk = isOk;
        Body = body;
    }

    /// <summary>
    /// <see cref="MessageStatus.Valid"/>, or <see cref="MessageStatus.Malformed"/> when the reply
    /// starts with neither <c>ok</c> nor <c>error</c>: the stream cannot be trusted after it.
    /// </summary>
    public MessageStatus Status { get; }

    /// <summary>True for an <c>ok</c> reply, false for an <c>error</c> reply.</summary>
    public bool IsOk { get; }

    /// <summary>
    /// The lines between the status line and the terminating empty line, separated by <c>\n</c>
    /// (point lines of a <c>get</c>, or the message of an error). Valid until the pipe is advanced.
    /// </summary>
    public ReadOnlySequence<byte> Body { get; }
}

/// <summary>
/// Reads the server's replies (the client side of the protocol): a status line <c>ok</c> or
/// <c>error</c>, body lines, and an empty line. Stateless (so a <c>readonly struct</c>); the body
/// is handed out as a slice of the input, never copied.
/// </summary>
public readonly struct MetricsResponseReader : IMessageReader<MetricsResponse>
{
    /// <summary>Takes the next complete reply; false while its terminating empty line has not arrived.</summary>
    /// <inheritdoc cref="IMessageReader{TMessage}.TryParseMessage"/>
    public bool TryParseMessage(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, out MetricsResponse message)
    {
        var reader = new SequenceReader<byte>(input);
        if (!reader.TryReadTo(out ReadOnlySequence<byte> reply, "\n\n"u8, advancePastDelimiter: true))
        {
            examined = input.End;
            message = default;
            return false;
        }

        consumed = examined = reader.Position;
        SequencePosition? statusEnd = reply.PositionOf((byte)'\n');
        ReadOnlySequence<byte> status = statusEnd is null ? reply : reply.Slice(0, statusEnd.Value);
        ReadOnlySequence<byte> body = statusEnd is null ? default : reply.Slice(reply.GetPosition(1, statusEnd.Value));
        if (SequenceEquals(status, "ok"u8))
        {
            message = new MetricsResponse(MessageStatus.Valid, isOk: true, body);
        }
        else if (SequenceEquals(status, "error"u8))
        {
            message = new MetricsResponse(MessageStatus.Valid, isOk: false, body);
        }
        else
        {
            message = new MetricsResponse(MessageStatus.Malformed, isOk: false, reply);
        }

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
