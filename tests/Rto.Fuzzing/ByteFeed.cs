using System.Buffers;

namespace Rto.Fuzzing;

/// <summary>
/// Feeds bytes to an <c>IMessageReader</c> the way a connection loop over a pipe does: chunk by
/// chunk, the unconsumed rest kept as several segments, the reader called until it wants more.
/// Checks the loop's side of the contract: a message always consumes bytes (else the loop would
/// spin) and the positions stay within the input.
/// </summary>
public static class ByteFeed
{
    /// <summary>One call of the reader: takes a message (true) or wants more bytes (false).</summary>
    public delegate bool Step(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined);

    /// <summary>
    /// Feeds <paramref name="bytes"/> in <paramref name="chunks"/> (sizes, repeated; empty for one
    /// chunk) to <paramref name="step"/>. <paramref name="stop"/> ends the feeding early (a
    /// protocol that closes the connection after a bad message). Returns the bytes never consumed.
    /// </summary>
    public static int Run(byte[] bytes, int[] chunks, Step step, Func<bool>? stop = null)
    {
        var unconsumed = new List<byte[]>();
        int offset = 0;
        int chunk = 0;
        while (offset < bytes.Length)
        {
            int size = chunks.Length == 0 ? bytes.Length : chunks[chunk++ % chunks.Length];
            size = Math.Min(size, bytes.Length - offset);
            unconsumed.Add(bytes[offset..(offset + size)]);
            offset += size;

            ReadOnlySequence<byte> buffer = Segments.Of(unconsumed);
            SequencePosition consumed = buffer.Start;
            SequencePosition examined = buffer.End;
            while (true)
            {
                long before = buffer.Slice(consumed).Length;
                bool message = step(buffer.Slice(consumed), ref consumed, ref examined);
                long after = buffer.Slice(consumed).Length;
                if (after > before)
                {
                    throw new FuzzPropertyException("the reader moved 'consumed' backwards");
                }

                if (buffer.Slice(examined).Length > after)
                {
                    throw new FuzzPropertyException("the reader set 'examined' before 'consumed'");
                }

                if (!message)
                {
                    break;
                }

                if (after == before)
                {
                    throw new FuzzPropertyException("the reader returned a message without consuming a byte: the connection loop would spin");
                }

                if (stop?.Invoke() == true)
                {
                    return (int)after;
                }
            }

            ReadOnlySequence<byte> rest = buffer.Slice(consumed);
            unconsumed.Clear();
            foreach (ReadOnlyMemory<byte> segment in rest)
            {
                if (!segment.IsEmpty)
                {
                    unconsumed.Add(segment.ToArray());
                }
            }
        }

        return unconsumed.Sum(s => s.Length);
    }
}

/// <summary>A <see cref="ReadOnlySequence{T}"/> over several arrays, one segment each, as a pipe hands them out.</summary>
public static class Segments
{
    /// <summary>The arrays as one sequence (an empty one when there are none).</summary>
    public static ReadOnlySequence<byte> Of(IReadOnlyList<byte[]> parts)
    {
        if (parts.Count == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Count; i++)
        {
            last = last.Append(parts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        public Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public Segment Append(ReadOnlyMemory<byte> memory)
        {
            var next = new Segment(memory, RunningIndex + Memory.Length);
            Next = next;
            return next;
        }
    }
}
