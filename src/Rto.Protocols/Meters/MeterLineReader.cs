using System.Buffers;

namespace Rto.Protocols.Meters;

/// <summary>One line of the meters stream, as <see cref="MeterLineReader"/> read it.</summary>
public readonly ref struct MeterLine
{
    private readonly MeterReading _reading;

    /// <summary>Parses <paramref name="text"/>, one complete line.</summary>
    internal MeterLine(ReadOnlySpan<byte> text)
    {
        Text = text;
        Status = MeterLineParser.TryParse(text, out _reading) ? MessageStatus.Valid : MessageStatus.Malformed;
    }

    internal MeterLine(MessageStatus rejected)
    {
        Status = rejected;
    }

    /// <summary>
    /// <see cref="MessageStatus.Valid"/>, <see cref="MessageStatus.Malformed"/> (not three valid
    /// TAB-separated fields) or <see cref="MessageStatus.TooLarge"/> (longer than the maximum;
    /// skipped, the stream goes on).
    /// </summary>
    public MessageStatus Status { get; }

    /// <summary>The reading of a valid line.</summary>
    public MeterReading Reading => _reading;

    /// <summary>The line as received, without its terminator (empty for an over-long line), for logging a rejection.</summary>
    public ReadOnlySpan<byte> Text { get; }
}

/// <summary>
/// Reads the meters stream (the server side; the protocol has no replies): one
/// <see cref="MeterLine"/> per <c>\n</c>-terminated line, <c>\r\n</c> accepted, blank lines
/// skipped. Never allocates in steady state.
/// </summary>
/// <remarks>A mutable struct: one per connection, called where it is stored. Not thread-safe.</remarks>
public struct MeterLineReader : IMessageReader<MeterLine>
{
    private LineFramer _framer;
    private byte[]? _splitLine;

    /// <summary>Creates a reader that accepts lines of at most <paramref name="maxLineLength"/> bytes (terminator excluded).</summary>
    public MeterLineReader(int maxLineLength)
    {
        _framer = new LineFramer(maxLineLength);

        // Allocated with the connection rather than at the first split line, so the steady state
        // never allocates; it grows (once) only for split lines longer than typical ones.
        _splitLine = new byte[Math.Min(maxLineLength, 256)];
    }

    /// <summary>The longest line, in bytes without its terminator, that is accepted.</summary>
    public readonly int MaxLineLength => _framer.MaxLineLength;

    /// <summary>Takes the next non-blank line and parses it with <see cref="MeterLineParser"/>.</summary>
    /// <inheritdoc cref="IMessageReader{TMessage}.TryParseMessage"/>
    public bool TryParseMessage(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, out MeterLine message)
    {
        // One framer call and no copy of the input on the common path: this runs per reading
        // (a loop over a local copy of the sequence measured about 10% slower per line).
        LineReadStatus status = _framer.TryReadLine(input, ref consumed, out ReadOnlySpan<byte> line, ref _splitLine);
        while (status == LineReadStatus.Line && line.IsEmpty)
        {
            status = _framer.TryReadLine(input.Slice(consumed), ref consumed, out line, ref _splitLine);
        }

        if (status == LineReadStatus.NeedMoreData)
        {
            examined = input.End;
            message = default;
            return false;
        }

        examined = consumed;
        message = status == LineReadStatus.LineTooLong ? new MeterLine(MessageStatus.TooLarge) : new MeterLine(line);
        return true;
    }
}
