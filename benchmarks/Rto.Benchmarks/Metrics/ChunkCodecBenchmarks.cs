using BenchmarkDotNet.Attributes;
using Rto.Server.Metrics;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// The chunk encoder and decoder on one 512-point chunk of regular timestamps (one per second),
/// per value pattern: the load generator's repeated value, a sine rounded to two decimals (a
/// sensor), a counter, uniform random doubles; and the same with Gorilla's XOR coding only
/// (<see cref="Decimal"/> false), the baseline the decimal coding improves on. Per point.
/// The chunk size in bytes per point is printed once per parameter set (BenchmarkDotNet shows it
/// in the log) and asserted by the unit tests.
/// </summary>
[MemoryDiagnoser]
public class ChunkCodecBenchmarks
{
    private const int Points = MetricSeries.ChunkPoints;

    private readonly long[] _timestamps = new long[Points];
    private readonly double[] _values = new double[Points];
    private ChunkAppender _appender = null!;
    private MetricChunk _chunk;

    [Params("repeat", "sine", "counter", "random")]
    public string Values { get; set; } = "repeat";

    [Params(true, false)]
    public bool Decimal { get; set; } = true;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(1);
        for (int i = 0; i < Points; i++)
        {
            _timestamps[i] = 1_700_000_000 + i;
            _values[i] = Values switch
            {
                "repeat" => 10.5,
                "sine" => Math.Round(20 + (10 * Math.Sin(2 * Math.PI * i / 3600.0)), 2),
                "counter" => i * 3,
                _ => random.NextDouble(),
            };
        }

        _appender = new ChunkAppender(Decimal, 8192);
        _chunk = Encode();
        Console.WriteLine($"// {Values}, decimal {Decimal}: {_chunk.Length / (double)Points:F3} bytes per point");
    }

    /// <summary>Appends 512 points into a reused head buffer (as a series does from its second chunk on).</summary>
    [Benchmark(OperationsPerInvoke = Points)]
    public int Encode512()
    {
        _appender.Reset();
        for (int i = 0; i < Points; i++)
        {
            _appender.Append(_timestamps[i], _values[i]);
        }

        return _appender.ByteLength;
    }

    /// <summary>Decodes the 512 points of a closed chunk.</summary>
    [Benchmark(OperationsPerInvoke = Points)]
    public double Decode512()
    {
        ChunkReader reader = _chunk.GetReader();
        double sum = 0;
        while (reader.TryRead(out long timestamp, out double value))
        {
            sum += value + timestamp;
        }

        return sum;
    }

    private MetricChunk Encode()
    {
        Encode512();
        return _appender.ToChunk();
    }
}
