using System.Buffers;

namespace Rto.Protocols.Tests;

/// <summary>Builds multi-segment sequences, the shape a pipe hands over when bytes arrive in pieces.</summary>
internal static class Segments
{
    public static ReadOnlySequence<byte> Of(params byte[][] parts)
    {
        if (parts.Length == 0)
        {
            return ReadOnlySequence<byte>.Empty;
        }

        var first = new Segment(parts[0], 0);
        Segment last = first;
        for (int i = 1; i < parts.Length; i++)
        {
            last = last.Append(parts[i]);
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }

    /// <summary>Splits <paramref name="bytes"/> at <paramref name="at"/> into a two-segment sequence.</summary>
    public static ReadOnlySequence<byte> SplitAt(byte[] bytes, int at) => Of(bytes[..at], bytes[at..]);

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
