using System.Buffers;
using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Microsoft.Extensions.Logging.Abstractions;
using Rto.Protocols;
using Rto.Protocols.Meters;
using Rto.Server.Meters;

namespace Rto.Benchmarks.Meters;

/// <summary>
/// The per-line work of the meters endpoint: one TSV reading parsed (IP, timestamp, value),
/// parsed plus validated against the registry, and 256 received lines taken by
/// <see cref="MeterLineReader"/> as the connection handler does (per line; contiguous, and in
/// 4 KB segments as Kestrel delivers them). Target ≤ 150 ns, 0 B.
/// </summary>
[MemoryDiagnoser]
public class MeterLineBenchmarks
{
    private const int LinesPerBuffer = 256;

    private readonly byte[] _line = "10.0.0.1\t2024.04.27 14:23:55.123456\t109.5"u8.ToArray();
    private ReadOnlySequence<byte> _contiguous;
    private ReadOnlySequence<byte> _segmented;
    private MeterLineReader _reader = new(256);
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

        var text = new StringBuilder();
        for (int i = 0; i < LinesPerBuffer; i++)
        {
            text.Append(CultureInfo.InvariantCulture, $"10.0.0.{1 + (i % 2)}\t2024.04.27 14:23:{i % 60:00}.{i:000000}\t{100 + (i % 10)}.5\n");
        }

        byte[] bytes = Encoding.ASCII.GetBytes(text.ToString());
        _contiguous = new ReadOnlySequence<byte>(bytes);
        _segmented = BufferSegments.Split(bytes, 4096);
        if (ReadLines(_contiguous) != LinesPerBuffer || ReadLines(_segmented) != LinesPerBuffer)
        {
            throw new InvalidOperationException("The benchmark input did not parse as expected.");
        }
    }

    [GlobalCleanup]
    public void Cleanup()
    {
        _registry.Dispose();
        Directory.Delete(_directory, recursive: true);
    }

    [Benchmark]
    public bool Parse() => MeterLineParser.TryParse(_line, out _);

    [Benchmark(OperationsPerInvoke = LinesPerBuffer)]
    public int ReadLines256() => ReadLines(_contiguous);

    [Benchmark(OperationsPerInvoke = LinesPerBuffer)]
    public int ReadLines256In4KSegments() => ReadLines(_segmented);

    [Benchmark]
    public bool ParseAndValidate() => MeterLineParser.TryParse(_line, out MeterReading reading) && MetersConnectionHandler.Validate(reading, _registry) is null;

    /// <summary>What the connection handler does per line before the registry and the store.</summary>
    private int ReadLines(ReadOnlySequence<byte> buffer)
    {
        int valid = 0;
        while (true)
        {
            SequencePosition consumed = buffer.Start, examined = buffer.End;
            bool taken = _reader.TryParseMessage(buffer, ref consumed, ref examined, out MeterLine line);
            buffer = buffer.Slice(consumed);
            if (!taken)
            {
                return valid;
            }

            valid += line.Status == MessageStatus.Valid ? 1 : 0;
        }
    }
}
