using System.Globalization;
using System.Text;
using BenchmarkDotNet.Attributes;
using Rto.Protocols.Metrics;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// Value formatting (every point line of a get) and parsing (every put). The cases cover the
/// common short decimal, a 17-digit value that leaves the parser's fast path, and an exponent.
/// </summary>
[MemoryDiagnoser]
public class MetricValueBenchmarks
{
    private readonly byte[] _destination = new byte[MetricValue.MaxFormattedLength];
    private byte[] _text = [];
    private double _value;

    [Params("10.5", "0.30000000000000004", "1e-05")]
    public string Text { get; set; } = "10.5";

    [GlobalSetup]
    public void Setup()
    {
        _text = Encoding.ASCII.GetBytes(Text);
        _value = double.Parse(Text, CultureInfo.InvariantCulture);

        // The cases are written the way the server prints them, so formatting must give them back.
        if (Format() != _text.Length || !_destination.AsSpan(0, _text.Length).SequenceEqual(_text) || Parse() != _value)
        {
            throw new InvalidOperationException($"MetricValue does not round-trip '{Text}'.");
        }
    }

    [Benchmark]
    public int Format() => MetricValue.TryFormat(_value, _destination, out int written) ? written : -1;

    [Benchmark]
    public double Parse() => MetricValue.TryParse(_text, out double value) ? value : double.NaN;
}
