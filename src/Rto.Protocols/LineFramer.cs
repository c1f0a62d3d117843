using System.Buffers;

namespace Rto.Protocols;

/// <summary>What <see cref="LineFramer.TryReadLine"/> found in the buffer.</summary>
public enum LineReadStatus
{
    /// <summary>No complete line yet; read more bytes and call again.</summary>
    NeedMoreData,

    /// <summary>A complete line was taken from the buffer.</summary>
    Line,

    /// <summary>
    /// A line longer than the maximum was found. Its bytes have been (or will be) discarded
    /// without being buffered; the caller should answer it with an error once.
    /// </summary>
    LineTooLong,
}

/// <summary>
/// Splits a byte stream into <c>\n</c>-terminated lines, dropping a <c>\r</c> right before the
/// <c>\n</c>. Lines longer than the maximum are reported once and then skipped up to their
/// terminating newline without being buffered, so one client can never make the reader hold
/// more than about the maximum line length.
/// </summary>
/// <remarks>
/// A mutable struct: keep it in a field or a local for the lifetime of one connection and pass
/// it by reference. Not thread-safe.
/// </remarks>
public struct LineFramer
{
    private readonly int _maxLineLength;
    private bool _discarding;

    /// <summary>Creates a framer that accepts lines of at most <paramref name="maxLineLength"/> bytes (newline excluded).</summary>
    public LineFramer(int maxLineLength)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(maxLineLength, 1);
        _maxLineLength = maxLineLength;
    }

    /// <summary>The longest line, in bytes without its line terminator, that is accepted.</summary>
    public readonly int MaxLineLength => _maxLineLength;

    /// <summary>
    /// Takes the next line from <paramref name="buffer"/>. On return <paramref name="buffer"/> starts
    /// after everything consumed; pass <c>buffer.Start</c> as consumed and the original end as
    /// examined to <c>PipeReader.AdvanceTo</c>.
    /// </summary>
    /// <param name="buffer">The unread bytes; sliced past what was consumed.</param>
    /// <param name="line">The line without its terminator, valid until the reader is advanced.</param>
    public LineReadStatus TryReadLine(ref ReadOnlySequence<byte> buffer, out ReadOnlySequence<byte> line)
    {
        line = default;
        while (true)
        {
            SequencePosition? newline = buffer.PositionOf((byte)'\n');
            if (_discarding)
            {
                if (newline is null)
                {
                    buffer = buffer.Slice(buffer.End);
                    return LineReadStatus.NeedMoreData;
                }

                buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
                _discarding = false;
                continue;
            }

            if (newline is null)
            {
                // +1 leaves room for a '\r' whose '\n' has not arrived yet.
                if (buffer.Length > _maxLineLength + 1)
                {
                    _discarding = true;
                    buffer = buffer.Slice(buffer.End);
                    return LineReadStatus.LineTooLong;
                }

                return LineReadStatus.NeedMoreData;
            }

            line = buffer.Slice(0, newline.Value);
            buffer = buffer.Slice(buffer.GetPosition(1, newline.Value));
            if (line.Length > 0 && EndsWithCarriageReturn(line))
            {
                line = line.Slice(0, line.Length - 1);
            }

            if (line.Length > _maxLineLength)
            {
                line = default;
                return LineReadStatus.LineTooLong;
            }

            return LineReadStatus.Line;
        }
    }

    private static bool EndsWithCarriageReturn(in ReadOnlySequence<byte> line)
    {
        if (line.IsSingleSegment)
        {
            return line.FirstSpan[^1] == (byte)'\r';
        }

        return line.Slice(line.Length - 1).FirstSpan[0] == (byte)'\r';
    }
}
