using System.Buffers;
using System.Collections.Concurrent;
using System.Diagnostics;
using Rto.Protocols.Metrics;
using Rto.Server.Storage;

namespace Rto.Server.Metrics;

/// <summary>
/// The time series store: per key, points ordered by timestamp with one value per timestamp,
/// kept in memory as compressed chunks and backed by <see cref="MetricLog"/>. Bounded by
/// <see cref="MetricsOptions.MaxMemory"/> and <see cref="MetricsOptions.Retention"/>. Safe for
/// concurrent use.
/// </summary>
/// <remarks>
/// A put is applied to memory and appended to the log buffer under the series lock, so the log
/// holds writes to one point in the order memory saw them. It becomes durable at
/// <see cref="CommitAsync"/>, which the connection awaits before sending the acknowledgements.
/// </remarks>
internal sealed class MetricStore : IDisposable, IReplayTarget
{
    private readonly ConcurrentDictionary<byte[], MetricSeries> _series = new(ByteKeyComparer.Instance);
    private readonly ConcurrentDictionary<byte[], MetricSeries>.AlternateLookup<ReadOnlySpan<byte>> _lookup;
    private readonly MetricLog? _log;
    private readonly ILogger _logger;
    private readonly Timer? _fsyncTimer;
    private readonly long _retention;
    private long _memoryUsed;
    private int _checkpointQueued;
    private int _disposed;

    public MetricStore(MetricsOptions options, ILogger<MetricStore> logger)
        : this(options, logger, replica: false)
    {
    }

    private MetricStore(MetricsOptions options, ILogger<MetricStore> logger, bool replica)
    {
        options.Validate(MetricsOptions.SectionName);
        _logger = logger;
        _lookup = _series.GetAlternateLookup<ReadOnlySpan<byte>>();
        _retention = (long)options.Retention.TotalSeconds;
        MaxMemory = options.EffectiveMaxMemory;
        if (replica)
        {
            // The cluster's stream is the log: this copy is rebuilt from it (MetricsReplication).
            return;
        }

        string directory = Path.GetFullPath(options.DataDirectory);
        long started = Stopwatch.GetTimestamp();
        _log = MetricLog.Open(directory, options.SegmentSize, options.Fsync, logger, this);

        // Late points replayed from the log go into their chunks now: exact counts, compact memory.
        long memory = 0;
        foreach (MetricSeries series in _series.Values)
        {
            series.FlushLate();
            memory += series.Footprint;
        }

        _memoryUsed = memory;
        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        if (_log.LoadedFirstFormat)
        {
            // Nothing is deleted before the new snapshot is complete and on disk.
            _logger.LogInformation("Migrating the metrics data in {Directory} to the compressed format", directory);
            Checkpoint();
        }

        _log.CheckpointDue += QueueCheckpoint;
        if (options.Fsync == FsyncPolicy.Interval)
        {
            _fsyncTimer = new Timer(static state => ((MetricStore)state!).FlushToDisk(), this, options.FsyncInterval, options.FsyncInterval);
        }

        _logger.LogInformation(
            "Metric store ready in {Directory} after {Seconds:F2} s: {Keys} keys, {Points} points, {MemoryMiB:F1} MiB of {MaxMemoryMiB:F0} MiB",
            directory, seconds, _series.Count, PointCount, _memoryUsed / 1048576.0, MaxMemory / 1048576.0);
    }

    /// <summary>
    /// A store without a log of its own, for cluster mode: every point comes from the cluster's
    /// stream through <see cref="Apply"/>, which is the durable log, and the store is rebuilt from
    /// it on start.
    /// </summary>
    public static MetricStore CreateReplica(MetricsOptions options, ILogger<MetricStore> logger) => new(options, logger, replica: true);

    /// <summary>Whether this store keeps a log (false for a cluster replica).</summary>
    public bool HasLog => _log is not null;

    /// <summary>The number of keys stored.</summary>
    public int KeyCount => _series.Count;

    /// <summary>The bytes the stored data takes (chunks, keys, buffers): what <see cref="MaxMemory"/> bounds.</summary>
    public long MemoryUsed => Volatile.Read(ref _memoryUsed);

    /// <summary>The memory limit in bytes beyond which puts are refused.</summary>
    public long MaxMemory { get; }

    /// <summary>Bytes of log segments not yet covered by a snapshot.</summary>
    public long LogBytes => _log?.LogBytes ?? 0;

    /// <summary>The size of the last snapshot.</summary>
    public long SnapshotBytes => _log?.SnapshotBytes ?? 0;

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
                    count += series.CountPoints();
                }
            }

            return count;
        }
    }

    /// <summary>
    /// Stores a point (replacing the value at an equal timestamp) and appends it to the log buffer,
    /// unless the store is full or the point is older than retention keeps. On
    /// <see cref="PutStatus.Stored"/>, <paramref name="position"/> is what to commit before acknowledging.
    /// </summary>
    public PutStatus Put(ReadOnlySpan<byte> key, long timestamp, double value, out long position)
    {
        position = 0;
        if (Volatile.Read(ref _memoryUsed) >= MaxMemory)
        {
            return PutStatus.OverMemoryLimit;
        }

        MetricSeries series = GetOrAdd(key);
        lock (series)
        {
            if (_retention > 0 && !series.IsEmpty && timestamp < series.RetentionHorizon(_retention))
            {
                return PutStatus.OutsideRetention;
            }

            long before = series.Footprint;
            position = _log!.Append(series, timestamp, value);
            series.Set(timestamp, value, _retention);
            long grown = series.Footprint - before;
            if (grown != 0)
            {
                Interlocked.Add(ref _memoryUsed, grown);
            }
        }

        return PutStatus.Stored;
    }

    /// <summary>
    /// What <see cref="Put"/> would answer for a point, without storing it: the node that takes a
    /// put in a cluster checks it against its own copy before publishing it.
    /// </summary>
    public PutStatus Admit(ReadOnlySpan<byte> key, long timestamp)
    {
        if (Volatile.Read(ref _memoryUsed) >= MaxMemory)
        {
            return PutStatus.OverMemoryLimit;
        }

        if (_retention > 0 && _lookup.TryGetValue(key, out MetricSeries? series))
        {
            lock (series)
            {
                if (!series.IsEmpty && timestamp < series.RetentionHorizon(_retention))
                {
                    return PutStatus.OutsideRetention;
                }
            }
        }

        return PutStatus.Stored;
    }

    /// <summary>
    /// Stores a point that the cluster's stream holds, without logging it and without refusing it:
    /// every node applies the same points in the same order, so every copy ends up the same.
    /// </summary>
    public void Apply(ReadOnlySpan<byte> key, long timestamp, double value)
    {
        MetricSeries series = GetOrAdd(key);
        lock (series)
        {
            long before = series.Footprint;
            series.Set(timestamp, value, _retention);
            long grown = series.Footprint - before;
            if (grown != 0)
            {
                Interlocked.Add(ref _memoryUsed, grown);
            }
        }
    }

    /// <summary>Completes once every put up to <paramref name="position"/> is in the log file (group commit across connections).</summary>
    /// <exception cref="IOException">The log cannot be written; the puts must not be acknowledged.</exception>
    public ValueTask CommitAsync(long position) => _log!.CommitAsync(position);

    /// <summary>Writes every put up to <paramref name="position"/> to the log file on this thread.</summary>
    /// <exception cref="IOException">The log cannot be written; the puts must not be acknowledged.</exception>
    public void Commit(long position) => _log!.Commit(position);

    /// <summary>The series of <paramref name="key"/>, if it has been stored.</summary>
    public bool TryGetSeries(ReadOnlySpan<byte> key, [System.Diagnostics.CodeAnalysis.NotNullWhen(true)] out MetricSeries? series) => _lookup.TryGetValue(key, out series);

    /// <summary>Writes every point line of <paramref name="key"/> (none when it is unknown), run by run.</summary>
    public void WritePoints(ReadOnlySpan<byte> key, IBufferWriter<byte> output)
    {
        if (_lookup.TryGetValue(key, out MetricSeries? series))
        {
            WritePoints(series, output, new SeriesRun());
        }
    }

    /// <summary>Writes every point line of one series, run by run.</summary>
    public static void WritePoints(MetricSeries series, IBufferWriter<byte> output, SeriesRun run)
    {
        run.Start(series);
        while (!run.Done)
        {
            run.WriteNext(output);
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
            _log?.FlushToDisk();
        }
        catch (Exception ex) when (ex is IOException or ObjectDisposedException)
        {
            _logger.LogError(ex, "fsync of the metrics log failed");
        }
    }

    /// <summary>Writes a snapshot and truncates the log now (normally triggered by the log's growth).</summary>
    public bool Checkpoint() => _log?.Checkpoint(WriteSnapshot, waitForRunning: true) ?? false;

    public void Dispose()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 1)
        {
            return;
        }

        _fsyncTimer?.Dispose();
        _log?.Dispose();
        _logger.LogInformation("Metric store closed: {Keys} keys", _series.Count);
    }

    MetricSeries IReplayTarget.Resolve(ReadOnlySpan<byte> key) => GetOrAdd(key);

    void IReplayTarget.Apply(MetricSeries series, long timestamp, double value) => series.Set(timestamp, value, _retention);

    void IReplayTarget.Reset() => _series.Clear();

    private MetricSeries GetOrAdd(ReadOnlySpan<byte> key)
    {
        if (_lookup.TryGetValue(key, out MetricSeries? series))
        {
            return series;
        }

        byte[] newKey = key.ToArray();
        var created = new MetricSeries(newKey);
        if (_series.TryAdd(newKey, created))
        {
            Interlocked.Add(ref _memoryUsed, created.Footprint);
            return created;
        }

        return _series[newKey];
    }

    private void QueueCheckpoint()
    {
        if (Interlocked.Exchange(ref _checkpointQueued, 1) == 1)
        {
            return;
        }

        // A checkpoint copies every chunk: its own thread, not a thread-pool one.
        _ = Task.Factory.StartNew(
            static state =>
            {
                var store = (MetricStore)state!;
                try
                {
                    // Writes that came in while a snapshot was being written may have made another one due.
                    while (store._log!.Checkpoint(store.WriteSnapshot) && store._log.CheckpointIsDue)
                    {
                    }
                }
                catch (Exception ex)
                {
                    // Not expected (I/O errors are handled inside); the log is kept, so nothing is lost.
                    store._logger.LogError(ex, "A metrics checkpoint failed");
                }
                finally
                {
                    Volatile.Write(ref store._checkpointQueued, 0);
                }
            },
            this,
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);
    }

    /// <summary>Every series into the snapshot: late points merged and retention applied under its lock, the bytes written outside it.</summary>
    private void WriteSnapshot(MetricSnapshot.Writer writer)
    {
        var chunks = new List<MetricChunk>();
        byte[] headCopy = new byte[4096];
        foreach (MetricSeries series in _series.Values)
        {
            chunks.Clear();
            lock (series)
            {
                long before = series.Footprint;
                series.FlushLate();
                if (_retention > 0 && !series.IsEmpty)
                {
                    series.DropOlderThan(series.RetentionHorizon(_retention));
                }

                series.CopyChunks(chunks, ref headCopy);
                long grown = series.Footprint - before;
                if (grown != 0)
                {
                    Interlocked.Add(ref _memoryUsed, grown);
                }
            }

            writer.WriteSeries(series.Key, chunks);
        }
    }
}
