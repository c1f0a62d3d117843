using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Rto.Protocols.Meters;
using Rto.Server.Meters;

namespace Rto.Benchmarks.Meters;

/// <summary>
/// The per-line work of the meters endpoint: one TSV reading parsed (IP, timestamp, value), and
/// parsed plus validated against the registry, as the connection handler does. Target ≤ 150 ns, 0 B.
/// </summary>
[MemoryDiagnoser]
public class MeterLineBenchmarks
{
    private readonly byte[] _line = "10.0.0.1\t2024.04.27 14:23:55.123456\t109.5"u8.ToArray();
    private string _directory = "";
    private MeterRegistry _registry = null!;

    [GlobalSetup]
    public void Setup()
    {
        _directory = Path.Combine(Path.GetTempPath(), "rto-bench-meters-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(_directory);
        string path = Path.Combine(_directory, "meters.tsv");
        File.WriteAllText(path, "10.0.0.1\t0\t110\tВ\n10.0.0.2\t0\t0.5\tА\n");
        _registry = new MeterRegistry(path, NullLogger<MeterRegistry>.Instance);
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registry.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public bool Parse() => MeterLineParser.TryParse(_line, out _);

    [Benchmark]
    public bool ParseAndValidate() => MeterLineParser.TryParse(_line, out MeterReading reading) && MetersConnectionHandler.Validate(reading, _registry) is null;
}
