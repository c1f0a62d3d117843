using System.Diagnostics;
using System.Numerics;

namespace Rto.Benchmarks.Load;

/// <summary>
/// A fixed-size log-linear histogram of Stopwatch ticks: exact below 32 ticks, then 32 buckets
/// per power of two (at most ~3% wide), so recording is allocation-free and O(1) however long
/// the run. Not thread-safe: one per connection, merged at the end.
/// </summary>
internal sealed class LatencyHistogram
{
    private const int SubBucketBits = 5;
    private const int SubBuckets = 1 << SubBucketBits;

    private readonly long[] _counts = new long[64 * SubBuckets];

    public long Count { get; private set; }

    public long MaxTicks { get; private set; }

    public void Record(long ticks, long count = 1)
    {
        ticks = Math.Max(ticks, 0);
        _counts[IndexOf(ticks)] += count;
        Count += count;
        MaxTicks = Math.Max(MaxTicks, ticks);
    }

    public void Add(LatencyHistogram other)
    {
        for (int i = 0; i < _counts.Length; i++)
        {
            _counts[i] += other._counts[i];
        }

        Count += other.Count;
        MaxTicks = Math.Max(MaxTicks, other.MaxTicks);
    }

    /// <summary>The upper bound of the bucket holding the <paramref name="percentile"/>th value, in microseconds.</summary>
    public double PercentileMicroseconds(double percentile)
    {
        long rank = Math.Max(1, (long)Math.Ceiling(percentile / 100 * Count));
        long seen = 0;
        for (int i = 0; i < _counts.Length; i++)
        {
            seen += _counts[i];
            if (seen >= rank)
            {
                return ToMicroseconds(Math.Min(UpperBound(i), MaxTicks));
            }
        }

        return ToMicroseconds(MaxTicks);
    }

    public static double ToMicroseconds(long ticks) => ticks * 1_000_000.0 / Stopwatch.Frequency;

    private static int IndexOf(long value)
    {
        if (value < SubBuckets)
        {
            return (int)value;
        }

        int shift = 63 - BitOperations.LeadingZeroCount((ulong)value) - SubBucketBits;
        return ((shift + 1) << SubBucketBits) + (int)((value >> shift) & (SubBuckets - 1));
    }

    private static long UpperBound(int index)
    {
        if (index < SubBuckets)
        {
            return index;
        }

        int shift = (index >> SubBucketBits) - 1;
        return ((SubBuckets + (long)(index & (SubBuckets - 1)) + 1) << shift) - 1;
    }
}
