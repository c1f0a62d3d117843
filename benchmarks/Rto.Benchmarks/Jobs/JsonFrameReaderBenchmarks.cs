using System.Buffers;
using BenchmarkDotNet.Attributes;
using Rto.Protocols.Jobs;

namespace Rto.Benchmarks.Jobs;

/// <summary>
/// Finding one small Info request in received bytes, whole and split across two segments (as
/// when the request straddles two Kestrel blocks). Target: ≤ 1 µs and 0 B allocated.
/// </summary>
[MemoryDiagnoser]
public class JsonFrameReaderBenchmarks
{
    private static readonly byte[] s_request = """{"Header":"Info","Request":"Status"}"""u8.ToArray();
    private ReadOnlySequence<byte> _whole;
    private ReadOnlySequence<byte> _split;

    [GlobalSetup]
    public void Setup()
    {
        _whole = new ReadOnlySequence<byte>(s_request);
        _split = Segment.Split(s_request, s_request.Length / 2);
        if (ReadWhole() != s_request.Length || ReadSplit() != s_request.Length)
        {
            throw new InvalidOperationException("The benchmark request did not frame as expected.");
        }
    }

    [Benchmark(Baseline = true)]
    public long ReadWhole() => Read(_whole);

    [Benchmark]
    public long ReadSplit() => Read(_split);

    private static long Read(ReadOnlySequence<byte> buffer)
    {
        var reader = new JsonFrameReader(1024 * 1024);
        return reader.TryReadFrame(ref buffer, out ReadOnlySequence<byte> frame) == JsonFrameStatus.Frame ? frame.Length : -1;
    }

    private sealed class Segment : ReadOnlySequenceSegment<byte>
    {
        private Segment(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Split(byte[] bytes, int at)
        {
            var first = new Segment(bytes.AsMemory(0, at), 0);
            var second = new Segment(bytes.AsMemory(at), at);
            first.Next = second;
            return new ReadOnlySequence<byte>(first, 0, second, second.Memory.Length);
        }
    }
}
