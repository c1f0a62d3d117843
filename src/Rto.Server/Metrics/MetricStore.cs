using System.Buffers;
using System.Collections.Concurrent;
using Rto.Protocols.Metrics;
using Rto.Server.Storage;

namespace Rto.Server.Metrics;

/// <summary>
/// The time series store: per key, points ordered by timestamp with one value per timestamp,
/// kept in memory and backed by <see cref="MetricLog"/>. Safe for concurrent use.
/// </summary>
/// <remarks>
/// A put is applied to memory and appended to the log buffer under the series lock, so the log
/// holds writes to one point in the order memory saw them. It becomes durable at
/// <see cref="Commit"/>, which the connection calls before sending the acknowledgements.
/// </remarks>
internal sealed class MetricStore : IDisposable
{
    private readonly ConcurrentDictionary<byte[], MetricSeries> _series = new(ByteKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], MetricSeries>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly MetricLog _log;
    private readonly ILogger _logger;
    private readonly Timer? _fsyncTimer;
    private int _disposed;

    public MetricStore(MetricsOptions options, ILogger<MetricStore> logger)
    {
        options.Validate(MetricsOptions.SectionName);
        _logger = logger;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<byte>>();
        string directory = Path.GetFullPath(options.DataDirectory);
        _log = MetricLog.Open(directory, options.SegmentSize, options.Fsync, logger, ApplyReplayed);
        _log.CompactionDue += () => ThreadPool.UnsafeQueueUserWorkItem(static store => store._log.Compact(store.EnumerateSeries), this, preferLocal: false);
        if (options.Fsync == FsyncPolicy.Interval)
        {
            _fsyncTimer = new Timer(static state => ((MetricStore)state!).FlushToDisk(), this, options.FsyncInterval, options.FsyncInterval);
        }

        _logger.LogInformation("Metric store ready in {Directory}: {Keys} keys, {Points} points", directory, _series.Count, PointCount);
    }

    /// <summary>The number of keys stored.</summary>
    public int KeyCount => _series.Count;

    /// <summary>The number of points stored, counted now (takes each series lock briefly).</summary>
    public long PointCount
    {
        get
        {
            long count = 0;
            foreach (MetricSeries series in _series.Values)
            {
                lock (series)
                {
                    count += series.Count;
                }
            }

            return count;
        }
    }

    /// <summary>
    /// Stores a point (replacing the value at an equal timestamp) and appends it to the log buffer.
    /// Returns the log position to pass to <see cref="Commit"/> before acknowledging the put.
    /// </summary>
    public long Put(ReadOnlySpan<byte> key, long timestamp, double value)
    {
        if (!_lookup.TryGetValue(key, out MetricSeries? series))
        {
            byte[] newKey = key.ToArray();
            series = _series.GetOrAdd(newKey, new MetricSeries(newKey));
        }

        lock (series)
        {
            long position = _log.Append(series.Key, timestamp, value);
            series.Set(timestamp, value);
            return position;
        }
    }

    /// <summary>Writes every put up to <paramref name="position"/> to the log file.</summary>
    /// <exception cref="IOException">The log cannot be written; the puts must not be acknowledged.</exception>
    public void Commit(long position) => _log.Commit(position);

    /// <summary>Writes the point lines of <paramref name="key"/> (none when it is unknown).</summary>
    public void WritePoints(ReadOnlySpan<byte> key, IBufferWriter<byte> output)
    {
        if (_lookup.TryGetValue(key, out MetricSeries? series))
        {
            WritePoints(series, output);
        }
    }

    /// <summary>Writes the point lines of one series.</summary>
    public static void WritePoints(MetricSeries series, IBufferWriter<byte> output)
    {
        lock (series)
        {
            ReadOnlySpan<long> timestamps = series.Timestamps;
            ReadOnlySpan<double> values = series.Values;
            for (int i = 0; i < timestamps.Length; i++)
            {
                MetricsResponseWriter.WritePoint(output, series.Key, values[i], timestamps[i]);
            }
        }
    }

    /// <summary>Every series, ordered by key bytes (ordinal), as of now.</summary>
    public List<MetricSeries> GetAllSeries()
    {
        // Enumerating the dictionary itself takes no locks and makes no intermediate copy.
        var all = new List<MetricSeries>(_series.Count);
        foreach (KeyValuePair<byte[], MetricSeries> entry in _series)
        {
            all.Add(entry.Value);
        }

        all.Sort(static (a, b) => a.Key.AsSpan().SequenceCompareTo(b.Key));
        return all;
    }

    /// <summary>fsyncs the log if anything was written since the last fsync.</summary>
    public void FlushToDisk()
    {
        try
        {
            _log.FlushToDisk();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _logger.LogError(ex, "fsync of the metrics log failed");
        }
    }

    /// <summary>Replaces the closed log segments with a snapshot now (normally triggered by size).</summary>
    public void Compact() => _log.Compact(EnumerateSeries, waitForRunning: true);

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _fsyncTimer?.Dispose();
        _log.Dispose();
        _logger.LogInformation("Metric store closed: {Keys} keys", _series.Count);
    }

    private IEnumerable<MetricSeries> EnumerateSeries() => _series.Values;

    private void ApplyReplayed(ReadOnlySpan<byte> key, long timestamp, double value)
    {
        if (!_lookup.TryGetValue(key, out MetricSeries? series))
        {
            byte[] newKey = key.ToArray();
            series = _series.GetOrAdd(newKey, new MetricSeries(newKey));
        }

        series.Set(timestamp, value);
    }
}
