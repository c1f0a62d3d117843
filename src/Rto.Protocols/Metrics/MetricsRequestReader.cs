using System.Buffers;

namespace Rto.Protocols.Metrics;

/// <summary>
/// Reads metrics request lines (the server side of the protocol): one <see cref="MetricsRequest"/>
/// per <c>\n</c>-terminated line, <c>\r\n</c> accepted. Never allocates in steady state: a line
/// in one segment is parsed where it lies, one split across segments is copied once into a
/// buffer the reader keeps for the connection.
/// </summary>
/// <remarks>A mutable struct: one per connection, called where it is stored. Not thread-safe.</remarks>
public struct MetricsRequestReader : IMessageReader<MetricsRequest>
{
    private LineFramer _framer;
    private byte[]? _splitLine;

    /// <summary>Creates a reader that accepts lines of at most <paramref name="maxLineLength"/> bytes (terminator excluded).</summary>
    public MetricsRequestReader(int maxLineLength)
    {
        _framer = new LineFramer(maxLineLength);

        // Allocated with the connection rather than at the first split line, so the steady state
        // never allocates; it grows (once) only for split lines longer than typical ones.
        _splitLine = new byte[Math.Min(maxLineLength, 256)];
    }

    /// <summary>The longest line, in bytes without its terminator, that is accepted.</summary>
    public readonly int MaxLineLength => _framer.MaxLineLength;

    /// <summary>
    /// Takes the next request line. A line that is not a valid request, or that is longer than
    /// <see cref="MaxLineLength"/>, is returned with that <see cref="MetricsRequest.Status"/>;
    /// the over-long line's bytes are skipped without being buffered.
    /// </summary>
    /// <inheritdoc cref="IMessageReader{TMessage}.TryParseMessage"/>
    public bool TryParseMessage(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, out MetricsRequest message)
    {
        LineReadStatus status = _framer.TryReadLine(input, ref consumed, out ReadOnlySpan<byte> line, ref _splitLine);
        if (status == LineReadStatus.NeedMoreData)
        {
            examined = input.End;
            message = default;
            return false;
        }

        examined = consumed;
        if (status == LineReadStatus.LineTooLong)
        {
            message = new MetricsRequest(MessageStatus.TooLarge);
        }
        else if (!MetricsRequestParser.TryParse(line, out message))
        {
            message = new MetricsRequest(MessageStatus.Malformed);
        }

        return true;
    }
}
