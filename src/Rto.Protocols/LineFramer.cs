using System.Buffers;

namespace Rto.Protocols;

/// <summary>What <see cref="LineFramer.TryReadLine(ref ReadOnlySequence{byte}, out ReadOnlySequence{byte})"/> found in the buffer.</summary>
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

    /// <summary>
    /// Takes the next line as one contiguous span, for the line protocols' readers. A line in the
    /// first segment (the common case) is found with one vectorized search and no slicing; a
    /// line split across segments is copied once into <paramref name="scratch"/>, which grows
    /// up to the maximum line length and is kept for the connection.
    /// </summary>
    /// <param name="input">The unread bytes, starting at <paramref name="consumed"/>.</param>
    /// <param name="consumed">Set past the line, or past the bytes of an over-long line skipped so far.</param>
    /// <param name="line">The line without its terminator: valid until the next call and until the pipe is advanced.</param>
    /// <param name="scratch">The connection's buffer for lines split across segments.</param>
    internal LineReadStatus TryReadLine(scoped in ReadOnlySequence<byte> input, scoped ref SequencePosition consumed, out ReadOnlySpan<byte> line, scoped ref byte[]? scratch)
    {
        if (!_discarding)
        {
            ReadOnlySpan<byte> first = input.FirstSpan;
            int newline = first.IndexOf((byte)'\n');
            if (newline >= 0)
            {
                consumed = input.GetPosition(newline + 1);
                line = newline > 0 && first[newline - 1] == (byte)'\r' ? first[..(newline - 1)] : first[..newline];
                if (line.Length > _maxLineLength)
                {
                    line = default;
                    return LineReadStatus.LineTooLong;
                }

                return LineReadStatus.Line;
            }
        }

        ReadOnlySequence<byte> rest = input;
        LineReadStatus status = TryReadLine(ref rest, out ReadOnlySequence<byte> sequence);
        consumed = rest.Start;
        if (status != LineReadStatus.Line || sequence.IsSingleSegment)
        {
            line = sequence.FirstSpan;
            return status;
        }

        int length = (int)sequence.Length;
        if (scratch is null || scratch.Length < length)
        {
            scratch = new byte[Math.Min(Math.Max(length, 256), _maxLineLength)];
        }

        sequence.CopyTo(scratch);
        line = scratch.AsSpan(0, length);
        return status;
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
