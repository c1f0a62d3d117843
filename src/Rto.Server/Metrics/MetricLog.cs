using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Rto.Server.Storage;

namespace Rto.Server.Metrics;

/// <summary>
/// The append-only log behind <see cref="MetricStore"/>. Puts are encoded into an in-memory
/// buffer under a short lock; <see cref="Commit"/> writes everything appended so far to the
/// active segment file with one write call (group commit), so a connection acknowledges its
/// puts only once they are in the file. Segments roll at a size limit, and closed segments are
/// replaced by a snapshot of the live points once they outgrow the previous snapshot, so the
/// log stays proportional to the data rather than to the number of overwrites.
/// </summary>
/// <remarks>
/// Files: <c>segment-NNNNNNNN.log</c> (records in arrival order) and <c>snapshot-NNNNNNNN.snap</c>
/// (every live point as of the end of segment NNNNNNNN). Recovery loads the newest snapshot,
/// then replays the segments after it in order.
/// </remarks>
internal sealed class MetricLog : IDisposable
{
    public static ReadOnlySpan<byte> SegmentMagic => "RTOMLOG1"u8;

    public static ReadOnlySpan<byte> SnapshotMagic => "RTOMSNP1"u8;

    private readonly string _directory;
    private readonly long _segmentSize;
    private readonly FsyncPolicy _fsync;
    private readonly ILogger _logger;

    private readonly Lock _appendLock = new();
    private byte[] _active = new byte[64 * 1024];
    private byte[]? _spare = new byte[64 * 1024];
    private int _activeLength;
    private long _appendedPosition;

    private readonly Lock _writeLock = new();
    private long _writtenPosition;
    private SafeFileHandle _segment = null!;
    private int _segmentNumber;
    private long _segmentLength;
    private bool _dirty;
    private Exception? _failure;

    private readonly List<(int Number, long Length)> _closedSegments = [];
    private long _snapshotLength;
    private readonly Lock _compactionLock = new();

    private MetricLog(string directory, long segmentSize, FsyncPolicy fsync, ILogger logger)
    {
        _directory = directory;
        _segmentSize = segmentSize;
        _fsync = fsync;
        _logger = logger;
    }

    /// <summary>Raised (on the committing thread) when closed segments should be compacted.</summary>
    public event Action? CompactionDue;

    /// <summary>The number of bytes appended since start (a monotonic log position).</summary>
    public long AppendedPosition
    {
        get
        {
            lock (_appendLock)
            {
                return _appendedPosition;
            }
        }
    }

    /// <summary>
    /// Opens the log in <paramref name="directory"/>, replays what it holds into
    /// <paramref name="onPoint"/>, drops a torn tail, and starts a new segment for appends.
    /// </summary>
    public static MetricLog Open(string directory, long segmentSize, FsyncPolicy fsync, ILogger logger, ReplayedPoint onPoint)
    {
        Directory.CreateDirectory(directory);
        var log = new MetricLog(directory, segmentSize, fsync, logger);
        int lastSegment = log.Recover(onPoint);
        log.StartSegment(lastSegment + 1);
        return log;
    }

    /// <summary>Appends one put to the log buffer; returns the position to <see cref="Commit"/> before acknowledging it.</summary>
    public long Append(ReadOnlySpan<byte> key, long timestamp, double value)
    {
        int size = MetricLogRecord.SizeOf(key.Length);
        lock (_appendLock)
        {
            if (_active.Length - _activeLength < size)
            {
                Array.Resize(ref _active, Math.Max(_active.Length * 2, _activeLength + size));
            }

            MetricLogRecord.Write(_active.AsSpan(_activeLength), MetricLogRecord.PutKind, key, timestamp, value);
            _activeLength += size;
            _appendedPosition += size;
            return _appendedPosition;
        }
    }

    /// <summary>
    /// Makes sure everything appended up to <paramref name="position"/> has been written to the
    /// segment file (and fsync'ed under <see cref="FsyncPolicy.Always"/>). Cheap when another
    /// caller's commit already covered it.
    /// </summary>
    /// <exception cref="IOException">The log could not be written; nothing more will be acknowledged.</exception>
    public void Commit(long position)
    {
        if (Volatile.Read(ref _writtenPosition) >= position)
        {
            return;
        }

        lock (_writeLock)
        {
            if (_failure is not null)
            {
                throw new IOException("The metrics log failed earlier and no longer accepts writes.", _failure);
            }

            if (_writtenPosition >= position)
            {
                return;
            }

            byte[] buffer;
            int length;
            long end;
            lock (_appendLock)
            {
                buffer = _active;
                length = _activeLength;
                end = _appendedPosition;
                _active = _spare ?? new byte[buffer.Length];
                _spare = null;
                _activeLength = 0;
            }

            try
            {
                RandomAccess.Write(_segment, buffer.AsSpan(0, length), _segmentLength);
                _segmentLength += length;
                _dirty = true;
                if (_fsync == FsyncPolicy.Always)
                {
                    RandomAccess.FlushToDisk(_segment);
                    _dirty = false;
                }
            }
            catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
            {
                _failure = ex;
                _logger.LogCritical(ex, "Writing the metrics log failed; puts are refused from now on");
                throw new IOException("The metrics log could not be written.", ex);
            }

            _spare = buffer;
            Volatile.Write(ref _writtenPosition, end);
            if (_segmentLength >= _segmentSize)
            {
                RollSegment();
            }
        }
    }

    /// <summary>fsyncs the active segment if anything was written since the last fsync.</summary>
    public void FlushToDisk()
    {
        lock (_writeLock)
        {
            if (_dirty && _failure is null)
            {
                RandomAccess.FlushToDisk(_segment);
                _dirty = false;
            }
        }
    }

    /// <summary>
    /// Writes a snapshot of <paramref name="series"/> that covers every closed segment, then deletes
    /// those segments. The caller guarantees that everything in those segments has been applied to
    /// the series (appends happen under the series lock, before the segment could close).
    /// </summary>
    /// <param name="series">The live series to write.</param>
    /// <param name="waitForRunning">
    /// False (background requests): return at once if a compaction is running, since it already covers
    /// the request. True (an explicit request): wait for it, then compact what closed since.
    /// </param>
    public void Compact(Func<IEnumerable<MetricSeries>> series, bool waitForRunning = false)
    {
        // One compaction at a time.
        if (waitForRunning)
        {
            _compactionLock.Enter();
        }
        else if (!_compactionLock.TryEnter())
        {
            return;
        }

        try
        {
            int upTo;
            lock (_writeLock)
            {
                if (_closedSegments.Count == 0)
                {
                    return;
                }

                upTo = _closedSegments[^1].Number;
            }

            string path = SnapshotPath(upTo);
            string temporary = path + ".tmp";
            long points = 0;
            byte[] record = new byte[256];
            using (var file = new FileStream(temporary, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
            {
                file.Write(SnapshotMagic);
                foreach (MetricSeries s in series())
                {
                    lock (s)
                    {
                        int size = MetricLogRecord.SizeOf(s.Key.Length);
                        if (record.Length < size)
                        {
                            record = new byte[size];
                        }

                        ReadOnlySpan<long> timestamps = s.Timestamps;
                        ReadOnlySpan<double> values = s.Values;
                        for (int i = 0; i < timestamps.Length; i++)
                        {
                            MetricLogRecord.Write(record, MetricLogRecord.PutKind, s.Key, timestamps[i], values[i]);
                            file.Write(record, 0, size);
                        }

                        points += timestamps.Length;
                    }
                }

                int endSize = MetricLogRecord.SizeOf(0);
                MetricLogRecord.Write(record, MetricLogRecord.SnapshotEndKind, [], points, 0);
                file.Write(record, 0, endSize);
                file.Flush(flushToDisk: true);
            }

            File.Move(temporary, path, overwrite: true);
            long snapshotLength = new FileInfo(path).Length;
            lock (_writeLock)
            {
                _closedSegments.RemoveAll(s => s.Number <= upTo);
                _snapshotLength = snapshotLength;
            }

            DeleteFilesCoveredBy(upTo);
            _logger.LogInformation("Compacted the metrics log up to segment {Segment}: snapshot of {Points} points, {Bytes} bytes", upTo, points, snapshotLength);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            _logger.LogError(ex, "Compacting the metrics log failed; the segments are kept and compaction will be retried");
        }
        finally
        {
            _compactionLock.Exit();
        }
    }

    public void Dispose()
    {
        // Let a running compaction finish so no file is half-written or deleted under a successor.
        using Lock.Scope compaction = _compactionLock.EnterScope();
        try
        {
            Commit(AppendedPosition);
            if (_fsync != FsyncPolicy.Never)
            {
                FlushToDisk();
            }
        }
        catch (IOException ex)
        {
            _logger.LogError(ex, "Flushing the metrics log on shutdown failed");
        }
        finally
        {
            lock (_writeLock)
            {
                _segment.Dispose();
            }
        }
    }

    private int Recover(ReplayedPoint onPoint)
    {
        var snapshots = ListFiles("snapshot-", ".snap");
        var segments = ListFiles("segment-", ".log");
        foreach (string leftover in Directory.EnumerateFiles(_directory, "*.tmp"))
        {
            File.Delete(leftover);
        }

        int covered = 0;
        for (int i = snapshots.Count - 1; i >= 0; i--)
        {
            (int number, string path) = snapshots[i];
            MetricLogReader.Result result = MetricLogReader.Read(path, SnapshotMagic, onPoint);
            if (result.SawSnapshotEnd)
            {
                covered = number;
                _snapshotLength = result.ValidLength;
                _logger.LogInformation("Loaded metrics snapshot {Path}: {Points} points", path, result.Records);
                break;
            }

            _logger.LogError("Metrics snapshot {Path} is incomplete or corrupt after {Points} points; trying an older one", path, result.Records);
        }

        int last = covered;
        long replayed = 0;
        foreach ((int number, string path) in segments)
        {
            if (number <= covered)
            {
                File.Delete(path);
                continue;
            }

            MetricLogReader.Result result = MetricLogReader.Read(path, SegmentMagic, onPoint);
            replayed += result.Records;
            long length = new FileInfo(path).Length;
            if (!result.Clean || result.ValidLength != length)
            {
                // Only the tail of a crash is expected here; keep everything before it.
                _logger.LogWarning("Metrics log {Path}: dropped {Bytes} torn or corrupt bytes after {Records} good records", path, length - result.ValidLength, result.Records);
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.SetLength(handle, result.ValidLength);
            }

            _closedSegments.Add((number, result.ValidLength));
            last = number;
        }

        _logger.LogInformation("Replayed {Records} records from {Segments} metrics log segments in {Directory}", replayed, _closedSegments.Count, _directory);
        return last;
    }

    private List<(int Number, string Path)> ListFiles(string prefix, string extension)
    {
        var files = new List<(int, string)>();
        foreach (string path in Directory.EnumerateFiles(_directory, prefix + "*" + extension))
        {
            string name = Path.GetFileNameWithoutExtension(path);
            if (int.TryParse(name.AsSpan(prefix.Length), NumberStyles.None, CultureInfo.InvariantCulture, out int number))
            {
                files.Add((number, path));
            }
        }

        files.Sort((a, b) => a.Item1.CompareTo(b.Item1));
        return files;
    }

    private void StartSegment(int number)
    {
        _segment = File.OpenHandle(SegmentPath(number), FileMode.CreateNew, FileAccess.Write, FileShare.Read);
        RandomAccess.Write(_segment, SegmentMagic, 0);
        if (_fsync == FsyncPolicy.Always)
        {
            RandomAccess.FlushToDisk(_segment);
        }

        _segmentNumber = number;
        _segmentLength = SegmentMagic.Length;
    }

    private void RollSegment()
    {
        SafeFileHandle closing = _segment;
        bool needsFsync = _dirty && _fsync == FsyncPolicy.Interval;
        _closedSegments.Add((_segmentNumber, _segmentLength));
        StartSegment(_segmentNumber + 1);
        _dirty = false;

        // Under Interval the closed segment still owes an fsync; doing it here would stall every
        // committing connection behind the write lock for as long as the disk takes.
        if (needsFsync)
        {
            ThreadPool.UnsafeQueueUserWorkItem(
                static state =>
                {
                    (SafeFileHandle handle, ILogger logger) = state;
                    try
                    {
                        RandomAccess.FlushToDisk(handle);
                    }
                    catch (IOException ex)
                    {
                        logger.LogError(ex, "fsync of a closed metrics log segment failed");
                    }
                    finally
                    {
                        handle.Dispose();
                    }
                },
                (closing, _logger),
                preferLocal: false);
        }
        else
        {
            closing.Dispose();
        }

        long closed = 0;
        foreach ((_, long length) in _closedSegments)
        {
            closed += length;
        }

        if (closed >= Math.Max(2 * _segmentSize, _snapshotLength))
        {
            CompactionDue?.Invoke();
        }
    }

    private void DeleteFilesCoveredBy(int upTo)
    {
        foreach ((int number, string path) in ListFiles("segment-", ".log"))
        {
            if (number <= upTo)
            {
                File.Delete(path);
            }
        }

        foreach ((int number, string path) in ListFiles("snapshot-", ".snap"))
        {
            if (number < upTo)
            {
                File.Delete(path);
            }
        }
    }

    private string SegmentPath(int number) => Path.Combine(_directory, $"segment-{number:D8}.log");

    private string SnapshotPath(int number) => Path.Combine(_directory, $"snapshot-{number:D8}.snap");
}
