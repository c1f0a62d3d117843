using System.Globalization;

namespace Rto.Benchmarks.Load;

/// <summary>What values the size and restart modes store.</summary>
internal enum ValuePattern
{
    /// <summary>The same value put after put, as the throughput modes send (<c>10.5</c>).</summary>
    Repeat,

    /// <summary>
    /// A sensor-like reading: a sine of period one hour, amplitude 10, sampled every interval and
    /// rounded to two decimals, so it changes by a unit or two of 0.01 from one point to the next.
    /// Each key has its own phase.
    /// </summary>
    Sine,

    /// <summary>Uniform random doubles in [0, 1): 53 random bits per value, printed with all 17 digits.</summary>
    Random,
}

/// <summary>In which order each key's timestamps are put.</summary>
internal enum TimeOrder
{
    Increasing,

    /// <summary>A backfill: newest first, every put lands before all the key's earlier points.</summary>
    Decreasing,
}

/// <summary>The points of the size and restart modes: regular timestamps per key, values from a <see cref="ValuePattern"/>.</summary>
internal sealed class PointPattern(ValuePattern values, TimeOrder order, long rounds, int intervalSeconds, int seed = 42)
{
    public const long FirstTimestamp = 1_700_000_000;

    private readonly Random _random = new(seed);

    public long Rounds => rounds;

    /// <summary>The timestamp of round <paramref name="round"/> (0-based, in sending order).</summary>
    public long Timestamp(long round) => FirstTimestamp + ((order == TimeOrder.Increasing ? round : rounds - 1 - round) * intervalSeconds);

    /// <summary>The value of <paramref name="key"/> at <paramref name="timestamp"/>.</summary>
    public double Value(int key, long timestamp) => values switch
    {
        ValuePattern.Repeat => 10.5,
        ValuePattern.Sine => Math.Round(20 + (10 * Math.Sin((2 * Math.PI * (timestamp - FirstTimestamp) / 3600.0) + key)), 2),
        _ => _random.NextDouble(),
    };

    /// <summary>The value as a client sends it: the shortest round-trip form.</summary>
    public static string Format(double value) => value.ToString("R", CultureInfo.InvariantCulture);
}
