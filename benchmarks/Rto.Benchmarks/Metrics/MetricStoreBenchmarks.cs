using System.Buffers;
using BenchmarkDotNet.Attributes;
using Rto.Protocols.Metrics;
using Rto.Server.Metrics;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// <see cref="MetricStore"/> in a steady state: overwriting existing points, a get of one key,
/// and a <c>get *</c>. Each benchmark sets up only the data it reads.
/// </summary>
/// <remarks>Appending new points grows the store, so it lives in <see cref="MetricStoreAppendBenchmarks"/>.</remarks>
[MemoryDiagnoser]
public class MetricStoreBenchmarks
{
    private const int PutsPerInvoke = 4096;
    private const int ReplacePoints = 64;
    private const long FirstTimestamp = 1_700_000_000;

    private readonly byte[] _putKey = "cpu.usage"u8.ToArray();
    private readonly byte[] _getKey = "get.10k"u8.ToArray();
    private readonly SinkBufferWriter _sink = new();
    private readonly SeriesRun _run = new();
    private TempMetricStore? _temp;
    private MetricStore _store = null!;

    [GlobalSetup(Target = nameof(PutReplace))]
    public void SetupPut()
    {
        Open();
        Fill(_putKey, ReplacePoints);
    }

    [GlobalSetup(Target = nameof(Get10kPoints))]
    public void SetupGet()
    {
        Open();
        Fill(_getKey, 10_000);
        Expect(Get10kPoints(), 10_000);
    }

    [GlobalSetup(Target = nameof(GetAll1MPoints))]
    public void SetupGetAll()
    {
        Open();
        for (int k = 0; k < 1000; k++)
        {
            Fill(System.Text.Encoding.ASCII.GetBytes($"host{k:D4}.cpu"), 1000);
        }

        Expect(GetAll1MPoints(), 1_000_000);
    }

    [GlobalCleanup]
    public void Cleanup() => _temp?.Dispose();

    /// <summary>
    /// Overwrites the 64 existing points of one key in turn: the steady state of a put, which
    /// should allocate nothing. Every put is also appended to the log buffer; the server commits
    /// once per batch it reads, and so does this loop every 4096 puts, which writes the buffer to
    /// the segment file and lets the log reuse its two buffers instead of growing without bound.
    /// </summary>
    [Benchmark(OperationsPerInvoke = PutsPerInvoke)]
    public long PutReplace()
    {
        long position = 0;
        for (int i = 0; i < PutsPerInvoke; i++)
        {
            _store.Put(_putKey, FirstTimestamp + (i % ReplacePoints), i, out position);
        }

        _store.Commit(position);
        return position;
    }

    /// <summary>The body of a <c>get</c> of one key holding 10,000 points.</summary>
    [Benchmark]
    public long Get10kPoints()
    {
        _sink.Reset();
        MetricsResponseWriter.WriteGetStart(_sink);
        _store.TryGetSeries(_getKey, out MetricSeries? series);
        MetricStore.WritePoints(series!, _sink, _run);
        MetricsResponseWriter.WriteGetEnd(_sink);
        return _sink.Written;
    }

    /// <summary><c>get *</c> over 1,000 keys of 1,000 points each, as the connection handler streams it.</summary>
    [Benchmark]
    public long GetAll1MPoints()
    {
        _sink.Reset();
        MetricsResponseWriter.WriteGetStart(_sink);
        foreach (MetricSeries series in _store.GetAllSeries())
        {
            MetricStore.WritePoints(series, _sink, _run);
        }

        MetricsResponseWriter.WriteGetEnd(_sink);
        return _sink.Written;
    }

    private void Open()
    {
        _temp = TempMetricStore.Create();
        _store = _temp.Store;
    }

    private void Fill(byte[] key, int points)
    {
        long position = 0;
        for (int i = 0; i < points; i++)
        {
            // Two-decimal values, typical of gauges, print as 3 to 5 digits.
            _store.Put(key, FirstTimestamp + i, (i % 10_000) / 100.0, out position);
        }

        _store.Commit(position);
    }

    /// <summary>Checks once, outside the measurement, that the sink saw the expected number of point lines.</summary>
    private void Expect(long written, int points)
    {
        var check = new ArrayBufferWriter<byte>();
        foreach (MetricSeries series in _store.GetAllSeries())
        {
            MetricStore.WritePoints(series, check, _run);
        }

        int lines = check.WrittenSpan.Count((byte)'\n');
        if (lines != points || written != check.WrittenCount + 4)
        {
            throw new InvalidOperationException($"Expected {points} point lines in {check.WrittenCount + 4} bytes, got {lines} lines and {written} bytes.");
        }
    }
}
