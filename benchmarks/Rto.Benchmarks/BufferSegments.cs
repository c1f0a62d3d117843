using System.Buffers;

namespace Rto.Benchmarks;

/// <summary>Received bytes as Kestrel hands them to a connection handler: a chain of fixed-size pool blocks.</summary>
internal sealed class BufferSegments : ReadOnlySequenceSegment<byte>
{
    private BufferSegments(ReadOnlyMemory<byte> memory, long runningIndex)
    {
        Memory = memory;
        RunningIndex = runningIndex;
    }

    /// <summary>Splits <paramref name="bytes"/> into segments of <paramref name="size"/> bytes (the last one shorter).</summary>
    public static ReadOnlySequence<byte> Split(byte[] bytes, int size)
    {
        var first = new BufferSegments(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
        BufferSegments last = first;
        for (int offset = size; offset < bytes.Length; offset += size)
        {
            var next = new BufferSegments(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)), offset);
            last.Next = next;
            last = next;
        }

        return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
    }
}
