using System.Buffers;

namespace Rto.Protocols.Meters;

/// <summary>One line of the meters stream, as <see cref="MeterLineReader"/> read it.</summary>
public readonly ref struct MeterLine
{
    internal MeterLine(MessageStatus status, ReadOnlySpan<byte> text, MeterReading reading)
    {
        Status = status;
        Text = text;
        Reading = reading;
    }

    /// <summary>
    /// <see cref="MessageStatus.Valid"/>, <see cref="MessageStatus.Malformed"/> (not three valid
    /// TAB-separated fields) or <see cref="MessageStatus.TooLarge"/> (longer than the maximum;
    /// skipped, the stream goes on).
    /// </summary>
    public MessageStatus Status { get; }

    /// <summary>The reading of a valid line.</summary>
    public MeterReading Reading { get; }

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
    }

    /// <summary>The longest line, in bytes without its terminator, that is accepted.</summary>
    public readonly int MaxLineLength => _framer.MaxLineLength;

    /// <summary>Takes the next non-blank line and parses it with <see cref="MeterLineParser"/>.</summary>
    /// <inheritdoc cref="IMessageReader{TMessage}.TryParseMessage"/>
    public bool TryParseMessage(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, out MeterLine message)
    {
        ReadOnlySequence<byte> rest = input;
        while (true)
        {
            LineReadStatus status = _framer.TryReadLine(rest, ref consumed, out ReadOnlySpan<byte> line, ref _splitLine);
            if (status == LineReadStatus.NeedMoreData)
            {
                examined = input.End;
                message = default;
                return false;
            }

            if (status == LineReadStatus.Line && line.IsEmpty)
            {
                rest = input.Slice(consumed);
                continue;
            }

            examined = consumed;
            if (status == LineReadStatus.LineTooLong)
            {
                message = new MeterLine(MessageStatus.TooLarge, default, default);
            }
            else
            {
                bool valid = MeterLineParser.TryParse(line, out MeterReading reading);
                message = new MeterLine(valid ? MessageStatus.Valid : MessageStatus.Malformed, line, reading);
            }

            return true;
        }
    }
}
