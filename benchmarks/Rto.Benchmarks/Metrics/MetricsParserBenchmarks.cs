using System.Buffers;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Rto.Protocols;
using Rto.Protocols.Metrics;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// The request path before the store: one <c>put</c> line parsed from a span, and a received
/// buffer of 256 pipelined puts split by <see cref="LineFramer"/> and parsed (reported per line).
/// </summary>
[MemoryDiagnoser]
public class MetricsParserBenchmarks
{
    private const int LinesPerBuffer = 256;

    // Kestrel hands the connection handler 4 KB pool blocks, so some lines straddle two segments.
    private const int KestrelBlockSize = 4096;

    private readonly byte[] _putLine = "put cpu.usage 10.5 1700000000"u8.ToArray();
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;

    [GlobalSetup]
    public void Setup()
    {
        var text = new StringBuilder();
        for (int i = 0; i < LinesPerBuffer; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"put cpu.usage.{i % 16} {i % 100}.5 {1_700_000_000 + i}\n");
        }

        byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
        _contiguous = new ReadOnlySequence<byte>(bytes);
        _segmented = Segments.Split(bytes, KestrelBlockSize);
        if (ParsePut() != 1_700_000_000 || FrameAndParse(_contiguous) != LinesPerBuffer || FrameAndParse(_segmented) != LinesPerBuffer)
        {
            throw new InvalidOperationException("The benchmark input did not parse as expected.");
        }
    }

    [Benchmark]
    public long ParsePut() => MetricsRequestParser.TryParse(_putLine, out MetricsRequest request) ? request.Timestamp : -1;

    [Benchmark(OperationsPerInvoke = LinesPerBuffer)]
    public int FrameAndParse256Lines() => FrameAndParse(_contiguous);

    [Benchmark(OperationsPerInvoke = LinesPerBuffer)]
    public int FrameAndParse256Lines4KSegments() => FrameAndParse(_segmented);

    /// <summary>What the connection handler does per line, minus the store and the reply.</summary>
    private static int FrameAndParse(ReadOnlySequence<byte> buffer)
    {
        var framer = new LineFramer(64 * 1024);
        Span<byte> copy = stackalloc byte[256];
        int parsed = 0;
        while (framer.TryReadLine(ref buffer, out ReadOnlySequence<byte> line) == LineReadStatus.Line)
        {
            scoped ReadOnlySpan<byte> span;
            if (line.IsSingleSegment)
            {
                span = line.FirstSpan;
            }
            else
            {
                // Like the server: a line split across blocks is copied once before parsing.
                line.CopyTo(copy);
                span = copy[..(int)line.Length];
            }

            if (MetricsRequestParser.TryParse(span, out MetricsRequest request) && request.Command == MetricsCommand.Put)
            {
                parsed++;
            }
        }

        return parsed;
    }

    private sealed class Segments : ReadOnlySequenceSegment<byte>
    {
        private Segments(ReadOnlyMemory<byte> memory, long runningIndex)
        {
            Memory = memory;
            RunningIndex = runningIndex;
        }

        public static ReadOnlySequence<byte> Split(byte[] bytes, int size)
        {
            var first = new Segments(bytes.AsMemory(0, Math.Min(size, bytes.Length)), 0);
            Segments last = first;
            for (int offset = size; offset < bytes.Length; offset += size)
            {
                var next = new Segments(bytes.AsMemory(offset, Math.Min(size, bytes.Length - offset)), offset);
                last.Next = next;
                last = next;
            }

            return new ReadOnlySequence<byte>(first, 0, last, last.Memory.Length);
        }
    }
}
