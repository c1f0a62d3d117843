using System.Buffers;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Rto.Protocols;
using Rto.Protocols.Metrics;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// The request path before the store: one <c>put</c> line parsed from a span, and a received
/// buffer of 256 pipelined puts taken by <see cref="MetricsRequestReader"/> exactly as the
/// connection handler does (reported per line). One reader serves every invocation, as one
/// connection's reader serves every read: its buffer for split lines is allocated once.
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
    private MetricsRequestReader _reader = new(64 * 1024);

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
        _segmented = BufferSegments.Split(bytes, KestrelBlockSize);
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
    private int FrameAndParse(ReadOnlySequence<byte> buffer)
    {
        int parsed = 0;
        while (true)
        {
            SequencePosition consumed = buffer.Start, examined = buffer.End;
            bool taken = _reader.TryParseMessage(buffer, ref consumed, ref examined, out MetricsRequest request);
            buffer = buffer.Slice(consumed);
            if (!taken)
            {
                return parsed;
            }

            if (request.Status == MessageStatus.Valid && request.Command == MetricsCommand.Put)
            {
                parsed++;
            }
        }
    }
}
