using System.Diagnostics;
using Rto.Server.Metrics;

namespace Rto.Server.Tests.Metrics;

/// <summary>
/// A series holds exactly what a sorted map with last-write-wins would hold, whatever the order
/// of the puts: appends, overwrites of any point, backfill, random order, bit patterns of every
/// kind. Random cases come from fixed seeds.
/// </summary>
[TestClass]
public sealed class MetricSeriesTests
{
    [TestMethod]
    public void RandomPutSequencesReadBackAsASortedLastWriteWinsMap()
    {
        for (int seed = 0; seed < 60; seed++)
        {
            var random = new Random(seed);
            var series = new MetricSeries("k"u8.ToArray(), decimalValues: seed % 3 != 0);
            var model = new SortedDictionary<long, double>();
            long origin = seed % 2 == 0 ? 1_700_000_000 : -5_000;
            long newest = origin;
            int puts = random.Next(1, 6000);
            for (int i = 0; i < puts; i++)
            {
                long timestamp = random.Next(10) switch
                {
                    < 5 => ++newest,                                           // in order
                    5 => newest,                                               // rewrite the newest point
                    6 => origin + random.NextInt64(newest - origin + 1),       // overwrite or fill a gap
                    7 => origin - random.Next(1, 5000),                        // before everything
                    8 => model.Count > 0 ? model.Keys.ElementAt(random.Next(model.Count)) : newest, // an existing point
                    _ => newest += random.Next(2, 1000),                       // a jump
                };
                double value = random.Next(4) switch
                {
                    0 => Math.Round(random.NextDouble() * 100, 2),
                    1 => BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue)),
                    2 => 10.5,
                    _ => i,
                };
                series.Set(timestamp, value);
                model[timestamp] = value;
                if (random.Next(500) == 0)
                {
                    series.FlushLate();
                }
            }

            AssertHolds(model, series, $"seed {seed}");
        }
    }

    [TestMethod]
    public void ExtremeTimestampsAndValueBitsAreKept()
    {
        var series = new MetricSeries("k"u8.ToArray());
        var model = new SortedDictionary<long, double>();
        double[] values = [double.NaN, -0.0, 0.0, double.PositiveInfinity, double.NegativeInfinity, double.Epsilon, BitConverter.Int64BitsToDouble(0x7FF0_0000_0000_0001), double.MaxValue];
        long[] timestamps = [0, long.MaxValue, long.MinValue, -1, 1, long.MaxValue - 1, long.MinValue + 1, 42];
        for (int round = 0; round < 3; round++)
        {
            for (int i = 0; i < timestamps.Length; i++)
            {
                double value = values[(i + round) % values.Length];
                series.Set(timestamps[i], value);
                model[timestamps[i]] = value;
            }
        }

        AssertHolds(model, series, "extremes");
    }

    [TestMethod]
    public void ABackfillInDecreasingOrderCostsAboutWhatAppendingDoes()
    {
        // Before chunks, each earlier point shifted the whole series: 400,000 puts took 100 times longer
        // backwards than forwards. Best of three, so a busy machine does not decide the outcome.
        const int Points = 400_000;
        double forwards = double.MaxValue;
        double backwards = double.MaxValue;
        for (int attempt = 0; attempt < 3; attempt++)
        {
            forwards = Math.Min(forwards, Time(increasing: true));
            backwards = Math.Min(backwards, Time(increasing: false));
        }

        Assert.IsLessThan(4 * forwards, backwards, $"backwards {backwards * 1000:F0} ms, forwards {forwards * 1000:F0} ms");

        static double Time(bool increasing)
        {
            var series = new MetricSeries("k"u8.ToArray());
            long started = Stopwatch.GetTimestamp();
            for (int i = 0; i < Points; i++)
            {
                series.Set(increasing ? i : Points - i, 10.5);
            }

            series.FlushLate();
            double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
            Assert.AreEqual(Points, series.CountPoints());
            return seconds;
        }
    }

    [TestMethod]
    public void ABackfilledSeriesIsAsCompactAsAnAppendedOne()
    {
        var forwards = new MetricSeries("k"u8.ToArray());
        var backwards = new MetricSeries("k"u8.ToArray());
        for (int i = 0; i < 100_000; i++)
        {
            forwards.Set(i, Math.Round(Math.Sin(i / 100.0) * 10, 1));
            backwards.Set(99_999 - i, Math.Round(Math.Sin((99_999 - i) / 100.0) * 10, 1));
        }

        backwards.FlushLate();
        Assert.IsLessThan(1.3 * forwards.Footprint, backwards.Footprint, $"{backwards.Footprint} vs {forwards.Footprint} bytes");
    }

    [TestMethod]
    public void RetentionDropsWholeChunksOlderThanTheNewestPointMinusTheWindow()
    {
        var series = new MetricSeries("k"u8.ToArray());
        const long Retention = 10_000;
        for (long t = 0; t < 50_000; t++)
        {
            series.Set(t, t % 7, Retention);
        }

        List<(long Timestamp, double Value)> points = ReadAll(series);
        long horizon = 49_999 - Retention;
        Assert.IsLessThanOrEqualTo(horizon, points[0].Timestamp, "nothing older than the chunk holding the horizon");
        Assert.IsGreaterThan(horizon - MetricSeries.ChunkPoints, points[0].Timestamp, "only whole chunks are dropped");
        Assert.AreEqual(49_999, points[^1].Timestamp);
        Assert.HasCount((int)(50_000 - points[0].Timestamp), points, "no gaps");
    }

    [TestMethod]
    public void ReadingInRunsSeesEveryPointOnceInOrderWhilePutsContinue()
    {
        var series = new MetricSeries("k"u8.ToArray());
        for (long t = 0; t < 20_000; t += 2)
        {
            series.Set(t, t);
        }

        var run = new SeriesRun();
        run.Start(series);
        var points = new List<(long Timestamp, double Value)>();
        var random = new Random(3);
        int runs = 0;
        while (!run.Done)
        {
            int before = points.Count;
            run.ReadNext(points);
            runs++;
            Assert.IsLessThanOrEqualTo(SeriesRun.MaxChunks * MetricSeries.ChunkPoints + MetricSeries.LateCapacity, points.Count - before, "a run is bounded");

            // Between runs: fill odd gaps everywhere, overwrite, append.
            for (int i = 0; i < 50; i++)
            {
                series.Set((random.Next(10_000) * 2) + 1, -1);
                series.Set(random.Next(10_000) * 2, -2);
            }

            series.Set(20_000 + runs, 7);
        }

        for (int i = 1; i < points.Count; i++)
        {
            Assert.IsGreaterThan(points[i - 1].Timestamp, points[i].Timestamp, $"strictly increasing at {i}");
        }

        Assert.IsGreaterThanOrEqualTo(10_000, points.Count(p => p.Timestamp % 2 == 0 && p.Timestamp < 20_000), "every point that existed at the start");
        Assert.IsGreaterThan(2, runs);
    }

    private static void AssertHolds(SortedDictionary<long, double> model, MetricSeries series, string message)
    {
        List<(long Timestamp, double Value)> points = ReadAll(series);
        Assert.HasCount(model.Count, points, message);
        Assert.AreEqual(model.Count, series.CountPoints(), message);
        int i = 0;
        foreach ((long timestamp, double value) in model)
        {
            Assert.AreEqual(timestamp, points[i].Timestamp, $"{message}: point {i}");
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(value), BitConverter.DoubleToInt64Bits(points[i].Value), $"{message}: value of {timestamp}");
            i++;
        }

        // And the same after the late points are merged into the chunks.
        series.FlushLate();
        Assert.AreEqual(model.Count, series.CountPoints(), message + " after merging");
        CollectionAssert.AreEqual(points, ReadAll(series), message + " after merging");
    }

    private static List<(long Timestamp, double Value)> ReadAll(MetricSeries series)
    {
        var run = new SeriesRun();
        var points = new List<(long, double)>();
        run.Start(series);
        while (!run.Done)
        {
            run.ReadNext(points);
        }

        return points;
    }
}
