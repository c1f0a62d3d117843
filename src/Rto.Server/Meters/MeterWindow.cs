namespace Rto.Server.Meters;

/// <summary>A point of a series: timestamp (microseconds, see <c>MeterTimestamp</c>) and value.</summary>
public readonly record struct TimedValue(long Timestamp, double Value);

/// <summary>The latest readings of one meter, a bounded ring in arrival order. Thread-safe.</summary>
internal sealed class MeterWindow(int capacity)
{
    private readonly long[] _timestamps = new long[capacity];
    private readonly double[] _values = new double[capacity];
    private readonly Lock _lock = new();
    private int _next;
    private int _count;
    private long _version;

    public int Count
    {
        get
        {
            lock (_lock)
            {
                return _count;
            }
        }
    }

    /// <summary>Changes with every added reading; a chart of the window is drawn again only when it has.</summary>
    public long Version => Interlocked.Read(ref _version);

    public void Add(long timestamp, double value)
    {
        lock (_lock)
        {
            _version++;
            _timestamps[_next] = timestamp;
            _values[_next] = value;
            _next = _next + 1 == _timestamps.Length ? 0 : _next + 1;
            if (_count < _timestamps.Length)
            {
                _count++;
            }
        }
    }

    /// <summary>The readings with <paramref name="from"/> ≤ timestamp ≤ <paramref name="to"/>, ordered by timestamp, at most <paramref name="limit"/> (the latest ones).</summary>
    public List<TimedValue> Query(long from, long to, int limit)
    {
        var result = new List<TimedValue>();
        lock (_lock)
        {
            for (int i = 0, index = Oldest(); i < _count; i++, index = Next(index))
            {
                if (_timestamps[index] >= from && _timestamps[index] <= to)
                {
                    result.Add(new TimedValue(_timestamps[index], _values[index]));
                }
            }
        }

        result.Sort((a, b) => a.Timestamp.CompareTo(b.Timestamp));
        return result.Count > limit ? result.GetRange(result.Count - limit, limit) : result;
    }

    /// <summary>The reading with the greatest timestamp.</summary>
    public bool TryGetLatest(out TimedValue latest)
    {
        latest = default;
        bool found = false;
        lock (_lock)
        {
            for (int i = 0; i < _count; i++)
            {
                if (!found || _timestamps[i] > latest.Timestamp)
                {
                    latest = new TimedValue(_timestamps[i], _values[i]);
                    found = true;
                }
            }
        }

        return found;
    }

    /// <summary>The reading whose timestamp is closest to <paramref name="timestamp"/>, if any is within <paramref name="maxDifference"/>.</summary>
    public bool TryFindClosest(long timestamp, long maxDifference, out TimedValue closest)
    {
        closest = default;
        long best = long.MaxValue;
        lock (_lock)
        {
            for (int i = 0; i < _count; i++)
            {
                long difference = Math.Abs(_timestamps[i] - timestamp);
                if (difference <= maxDifference && difference < best)
                {
                    best = difference;
                    closest = new TimedValue(_timestamps[i], _values[i]);
                }
            }
        }

        return best != long.MaxValue;
    }

    private int Oldest() => _count < _timestamps.Length ? 0 : _next;

    private int Next(int index) => index + 1 == _timestamps.Length ? 0 : index + 1;
}
