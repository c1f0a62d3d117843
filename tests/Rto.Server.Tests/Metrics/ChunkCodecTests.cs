using Rto.Server.Metrics;

namespace Rto.Server.Tests.Metrics;

/// <summary>
/// The chunk encoding gives back every timestamp and every value bit for bit, whatever they are,
/// and stays small for the data it is meant for. Random cases come from fixed seeds, so a failure
/// reproduces.
/// </summary>
[TestClass]
public sealed class ChunkCodecTests
{
    private static readonly double[] s_specialValues =
    [
        0.0, -0.0, double.NaN, -double.NaN, BitConverter.Int64BitsToDouble(0x7FF0_0000_0000_0001), // signalling NaN
        BitConverter.Int64BitsToDouble(0x7FF8_DEAD_BEEF_0001), BitConverter.Int64BitsToDouble(unchecked((long)0xFFF0_0000_0000_0042)),
        double.PositiveInfinity, double.NegativeInfinity, double.MaxValue, double.MinValue, double.Epsilon, -double.Epsilon,
        2.2250738585072009e-308, 1e-300, 1e308, 0.1, 0.2, 0.30000000000000004, 10.5, -7.25e-6, 1e22, 1e23, 9007199254740993.0,
        123456789012345.67, 1.0 / 3.0,
    ];

    private static readonly long[] s_specialTimestamps = [long.MinValue, long.MinValue + 1, -1_700_000_000, -1, 0, 1, 1_700_000_000, long.MaxValue - 1, long.MaxValue];

    [TestMethod]
    [DataRow(true)]
    [DataRow(false)]
    public void SpecialValuesAndTimestampsRoundTripBitForBit(bool decimalValues)
    {
        // Every special value after every other, at timestamps that jump across the whole range.
        var points = new List<(long, double)>();
        long timestamp = long.MinValue;
        int t = 0;
        foreach (double a in s_specialValues)
        {
            foreach (double b in s_specialValues)
            {
                points.Add((timestamp, a));
                timestamp = NextTimestamp(timestamp, t++);
                points.Add((timestamp, b));
                timestamp = NextTimestamp(timestamp, t++);
            }
        }

        AssertRoundTrip(points, decimalValues);
    }

    [TestMethod]
    public void RandomTimestampStepsAndValueMixesRoundTrip()
    {
        for (int seed = 0; seed < 300; seed++)
        {
            var random = new Random(seed);
            int count = random.Next(1, 1200);
            var points = new List<(long, double)>(count);
            long timestamp = random.Next(4) switch
            {
                0 => s_specialTimestamps[random.Next(s_specialTimestamps.Length)],
                1 => random.NextInt64(long.MinValue, long.MaxValue),
                _ => 1_700_000_000 + random.Next(1000),
            };
            double value = 20;
            int valueKind = random.Next(6);
            for (int i = 0; i < count && timestamp < long.MaxValue; i++)
            {
                value = NextValue(random, valueKind, value);
                points.Add((timestamp, value));
                long step = random.Next(10) switch
                {
                    < 6 => 10,
                    6 => random.Next(1, 100),
                    7 => random.Next(1, 100_000),
                    8 => random.NextInt64(1, long.MaxValue / 4),
                    _ => 10 + random.Next(-2, 3),
                };
                if (long.MaxValue - timestamp < step)
                {
                    break;
                }

                timestamp += step;
            }

            AssertRoundTrip(points, decimalValues: seed % 4 != 0, $"seed {seed}");
        }
    }

    [TestMethod]
    public void ReplacingTheLastPointRewritesOnlyThatPoint()
    {
        for (int seed = 0; seed < 100; seed++)
        {
            var random = new Random(seed);
            var appender = new ChunkAppender(decimalValues: seed % 2 == 0);
            var expected = new List<(long, double)>();
            long timestamp = -50;
            for (int i = 0; i < 300; i++)
            {
                double value = NextValue(random, random.Next(6), 1);
                if (expected.Count > 0 && random.Next(3) == 0)
                {
                    appender.ReplaceLast(value);
                    expected[^1] = (expected[^1].Item1, value);
                    continue;
                }

                timestamp += random.Next(1, 5);
                appender.Append(timestamp, value);
                expected.Add((timestamp, value));
            }

            AssertPoints(expected, Decode(appender.ToChunk()), $"seed {seed}");
            Assert.AreEqual(timestamp, appender.Last);
        }
    }

    [TestMethod]
    public void AResumedChunkContinuesExactlyAsIfNeverClosed()
    {
        for (int seed = 0; seed < 50; seed++)
        {
            var random = new Random(seed);
            var whole = new ChunkAppender(decimalValues: true);
            var first = new ChunkAppender(decimalValues: true);
            var points = new List<(long, double)>();
            long timestamp = 1_700_000_000;
            int split = random.Next(1, 200);
            for (int i = 0; i < 400; i++)
            {
                timestamp += random.Next(1, 30);
                double value = NextValue(random, random.Next(6), 5);
                points.Add((timestamp, value));
                whole.Append(timestamp, value);
                if (i < split)
                {
                    first.Append(timestamp, value);
                }
            }

            ChunkAppender resumed = ChunkAppender.Resume(first.ToChunk(), decimalValues: true);
            resumed.ReplaceLast(points[split - 1].Item2);
            foreach ((long t, double v) in points.Skip(split))
            {
                resumed.Append(t, v);
            }

            CollectionAssert.AreEqual(whole.ToChunk().Data, resumed.ToChunk().Data, $"seed {seed}");
        }
    }

    [TestMethod]
    public void ACorruptFormatByteIsRefusedNotMisread()
    {
        var appender = new ChunkAppender(decimalValues: true);
        appender.Append(1, 1.5);
        appender.Append(2, 2.5);
        MetricChunk chunk = appender.ToChunk();
        chunk.Data[0] ^= 0xE0;
        Assert.ThrowsExactly<InvalidDataException>(() => Decode(chunk));
    }

    /// <summary>The sizes the design is for, per point of a 512-point chunk (the store adds about 0.1 B of overhead).</summary>
    [TestMethod]
    [DataRow("repeat", true, 0.30)]
    [DataRow("sine", true, 1.0)]
    [DataRow("sine", false, 8.0)]
    [DataRow("random", true, 8.6)]
    [DataRow("counter", true, 0.40)]
    public void ChunksAreAsSmallAsTheDataAllows(string values, bool decimalValues, double maxBytesPerPoint)
    {
        var random = new Random(1);
        var appender = new ChunkAppender(decimalValues);
        for (int i = 0; i < MetricSeries.ChunkPoints; i++)
        {
            long timestamp = 1_700_000_000 + i;
            double value = values switch
            {
                "repeat" => 10.5,
                "sine" => Math.Round(20 + (10 * Math.Sin(2 * Math.PI * i / 3600.0)), 2),
                "counter" => i * 3,
                _ => random.NextDouble(),
            };
            appender.Append(timestamp, value);
        }

        double perPoint = appender.ToChunk().Data.Length / (double)MetricSeries.ChunkPoints;
        Assert.IsLessThanOrEqualTo(maxBytesPerPoint, perPoint, $"{values}: {perPoint:F2} B/point");
    }

    /// <summary>Steps of every size, wrapping past <see cref="long.MaxValue"/>: the codec itself does not need order.</summary>
    private static long NextTimestamp(long timestamp, int t) =>
        unchecked((t % 4) switch
        {
            0 => timestamp + 1,
            1 => timestamp + (1L << 62),
            2 => timestamp + 10,
            _ => timestamp + 1_000_003,
        });

    private static double NextValue(Random random, int kind, double previous) =>
        kind switch
        {
            0 => Math.Round(previous + random.Next(-3, 4) * 0.1, 1),
            1 => random.NextDouble(),
            2 => BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue)),
            3 => s_specialValues[random.Next(s_specialValues.Length)],
            4 => random.Next(3) == 0 ? previous : Math.Round(random.NextDouble() * 1000, random.Next(0, 6)),
            _ => random.Next(5) switch
            {
                0 => random.Next(-1000, 1000),
                1 => BitConverter.Int64BitsToDouble(random.NextInt64(long.MinValue, long.MaxValue)),
                2 => Math.Round(random.NextDouble() * 1e6, 3),
                3 => previous,
                _ => s_specialValues[random.Next(s_specialValues.Length)],
            },
        };

    private static void AssertRoundTrip(List<(long Timestamp, double Value)> points, bool decimalValues, string message = "")
    {
        // In chunks of at most ChunkPoints, as the store writes them.
        for (int start = 0; start < points.Count; start += MetricSeries.ChunkPoints)
        {
            var appender = new ChunkAppender(decimalValues);
            List<(long, double)> slice = points.GetRange(start, Math.Min(MetricSeries.ChunkPoints, points.Count - start));
            foreach ((long timestamp, double value) in slice)
            {
                appender.Append(timestamp, value);
            }

            MetricChunk chunk = appender.ToChunk();
            Assert.AreEqual(slice[0].Item1, chunk.First, message);
            Assert.AreEqual(slice[^1].Item1, chunk.Last, message);
            AssertPoints(slice, Decode(chunk), message);
        }
    }

    private static void AssertPoints(List<(long Timestamp, double Value)> expected, List<(long Timestamp, double Value)> actual, string message)
    {
        Assert.HasCount(expected.Count, actual, message);
        for (int i = 0; i < expected.Count; i++)
        {
            Assert.AreEqual(expected[i].Timestamp, actual[i].Timestamp, $"{message}: timestamp {i}");
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected[i].Value), BitConverter.DoubleToInt64Bits(actual[i].Value), $"{message}: value bits {i} ({expected[i].Value} vs {actual[i].Value})");
        }
    }

    private static List<(long, double)> Decode(MetricChunk chunk)
    {
        var points = new List<(long, double)>();
        ChunkReader reader = chunk.GetReader();
        while (reader.TryRead(out long timestamp, out double value))
        {
            points.Add((timestamp, value));
        }

        return points;
    }
}
