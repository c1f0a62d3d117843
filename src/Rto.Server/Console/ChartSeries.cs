namespace Rto.Server.Console;

/// <summary>A series as the charts take it: times (Unix seconds) and values of equal length.</summary>
internal sealed record ChartSeries(string Name, string Unit, List<double> T, List<double> V)
{
    /// <summary>
    /// A series of at most about <paramref name="maxPoints"/> points: beyond that, each of
    /// <c>maxPoints / 2</c> equal slices of the points keeps its lowest and its highest value (in time
    /// order), so spikes survive the thinning where taking every n-th point would drop them.
    /// </summary>
    public static ChartSeries Thin(string name, string unit, IReadOnlyList<(double Time, double Value)> points, int maxPoints)
    {
        var t = new List<double>(Math.Min(points.Count, maxPoints + 2));
        var v = new List<double>(t.Capacity);
        if (points.Count <= maxPoints)
        {
            foreach ((double time, double value) in points)
            {
                t.Add(time);
                v.Add(value);
            }

            return new ChartSeries(name, unit, t, v);
        }

        int buckets = Math.Max(1, maxPoints / 2);
        for (int b = 0; b < buckets; b++)
        {
            int start = (int)((long)points.Count * b / buckets), end = (int)((long)points.Count * (b + 1) / buckets);
            if (end <= start)
            {
                continue;
            }

            int low = start, high = start;
            for (int i = start + 1; i < end; i++)
            {
                if (points[i].Value < points[low].Value)
                {
                    low = i;
                }

                if (points[i].Value > points[high].Value)
                {
                    high = i;
                }
            }

            foreach (int i in low == high ? [low] : low < high ? new[] { low, high } : [high, low])
            {
                t.Add(points[i].Time);
                v.Add(points[i].Value);
            }
        }

        return new ChartSeries(name, unit, t, v);
    }
}
