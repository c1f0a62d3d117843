namespace Rto.Server.Metrics;

/// <summary>
/// The points of one key, ordered by timestamp, one value per timestamp. Not thread-safe:
/// <see cref="MetricStore"/> locks the series around every access.
/// </summary>
internal sealed class MetricSeries(byte[] key)
{
    private long[] _timestamps = new long[4];
    private double[] _values = new double[4];

    /// <summary>The key as UTF-8 bytes.</summary>
    public byte[] Key { get; } = key;

    public int Count { get; private set; }

    public ReadOnlySpan<long> Timestamps => _timestamps.AsSpan(0, Count);

    public ReadOnlySpan<double> Values => _values.AsSpan(0, Count);

    /// <summary>Stores a point, replacing the value of an equal timestamp.</summary>
    public void Set(long timestamp, double value)
    {
        // Points nearly always arrive in time order: check the end before searching.
        int count = Count;
        if (count == 0 || timestamp > _timestamps[count - 1])
        {
            Insert(count, timestamp, value);
            return;
        }

        int index = _timestamps.AsSpan(0, count).BinarySearch(timestamp);
        if (index >= 0)
        {
            _values[index] = value;
        }
        else
        {
            Insert(~index, timestamp, value);
        }
    }

    private void Insert(int index, long timestamp, double value)
    {
        if (Count == _timestamps.Length)
        {
            int capacity = _timestamps.Length * 2;
            Array.Resize(ref _timestamps, capacity);
            Array.Resize(ref _values, capacity);
        }

        if (index < Count)
        {
            Array.Copy(_timestamps, index, _timestamps, index + 1, Count - index);
            Array.Copy(_values, index, _values, index + 1, Count - index);
        }

        _timestamps[index] = timestamp;
        _values[index] = value;
        Count++;
    }
}
