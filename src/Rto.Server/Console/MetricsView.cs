using Rto.Server.Endpoints;
using Rto.Server.Metrics;

namespace Rto.Server.Console;

/// <summary>
/// The metrics page: keys by prefix, and the chosen keys' points over a time range. A live plot is
/// re-read when the metrics endpoint has handled requests since the last update (its request counter
/// from <see cref="InstrumentTotals"/>), at most once a second, since reading a key reads all its points.
/// </summary>
internal sealed class MetricsView(MetricStore store, InstrumentTotals totals)
{
    /// <summary>The most keys listed for one prefix; the page says how many match in all.</summary>
    public const int MaxKeys = 500;

    /// <summary>The most keys plotted together.</summary>
    public const int MaxPlotted = 16;

    public object Keys(string prefix)
    {
        (List<string> keys, int matching) = store.ListKeys(prefix, MaxKeys);
        return new { prefix, keys, matching, keyCount = store.KeyCount };
    }

    public object Series(IReadOnlyList<string> keys, long from, long to, int maxPoints) => new
    {
        from,
        to,
        series = keys.Take(MaxPlotted).Select(key =>
        {
            List<(long Timestamp, double Value)> points = store.ReadPoints(key, from, to);
            ChartSeries chart = ChartSeries.Thin(key, "", [.. points.Select(p => ((double)p.Timestamp, p.Value))], maxPoints);
            return new { key, count = points.Count, t = chart.T, v = chart.V };
        }).ToList(),
    };

    /// <summary>A live plot: <paramref name="span"/> seconds up to now when <paramref name="to"/> is null, else the fixed range.</summary>
    public LiveView Stream(IReadOnlyList<string> keys, long? from, long? to, long? span, int maxPoints)
    {
        double seen = -1;
        long lastSent = Environment.TickCount64 - 60_000;
        return new LiveView(() =>
        {
            if (Environment.TickCount64 - lastSent < 950)
            {
                return null;
            }

            double requests = totals.Read().Where(r => r.Endpoint == EndpointNames.Metrics && r.Instrument == "rto.requests").Sum(r => r.Sum);
            if (requests == seen)
            {
                return null;
            }

            seen = requests;
            lastSent = Environment.TickCount64;
            long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            long end = to ?? now;
            long start = span is { } seconds ? end - seconds : from ?? 0;
            return Series(keys, start, end, maxPoints);
        });
    }
}
