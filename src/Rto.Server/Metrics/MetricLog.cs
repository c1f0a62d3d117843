using System.Globalization;
using Microsoft.Win32.SafeHandles;

namespace Rto.Server.Metrics;

/// <summary>
/// The write-ahead log behind <see cref="MetricStore"/>. Puts are encoded into a shared buffer
/// under a short lock; one writer at a time takes everything appended by every connection since
/// the last write and writes it as one checksummed frame with one system call (group commit, as
/// Redis does once per event-loop turn), then wakes all the connections it covered. A connection
/// sends its acknowledgements only once its puts are in the file (and on disk under
/// <see cref="FsyncPolicy.Always"/>). Segments roll at a size limit; a checkpoint writes a snapshot
/// of the compressed chunks and deletes every segment it covers.
/// </summary>
/// <remarks>
/// Files: <c>segment-NNNNNNNN.log</c> (frames in write order) and <c>snapshot-NNNNNNNN.snap</c>
/// (every chunk as of the end of segment NNNNNNNN). Recovery loads the newest complete snapshot,
/// then replays the later segments in order. Files of the first format (<c>RTOMLOG1</c>,
/// <c>RTOMSNP1</c>) are read the same way and replaced by a snapshot right after start.
/// </remarks>
internal sealed class MetricLog : IDisposable
{
    private const int BufferSize = 64 * 1024;

    private static readonly Action<MetricLog> s_runWriter = static log => log.RunWriter();

    private readonly string _directory;
    private readonly long _segmentSize;
    private readonly FsyncPolicy _fsync;
    private readonly ILogger _logger;

    // Appending, under _appendLock.
    private readonly Lock _appendLock = new();
    private byte[] _active = new byte[BufferSize];
    private byte[]? _spare = new byte[BufferSize];
    private int _activeLength = MetricLogFormat.FrameHeaderSize;
    private long _appendedPosition;
    private int _epoch;
    private int _nextId;
    private long _takenPosition;
    private long _writtenPosition;
    private TaskCompletionSource? _pendingCommit;
    private TaskCompletionSource? _inFlightCommit;

    // A leader (a connection writing for itself and everyone before it) or the queued writer is
    // writing: commits arriving meanwhile wait for it instead of writing themselves.
    private bool _writing;
    private Exception? _failure;

    // Writing, under _writeLock.
    private readonly Lock _writeLock = new();
    private SafeFileHandle _segment = null!;
    private int _segmentNumber;
    private long _segmentLength;
    private bool _dirty;
    private long _bytesSinceSnapshot;
    private long _snapshotLength;
    private long _retryCheckpointAt;
    private long _writes;

    private readonly Lock _checkpointLock = new();
    private bool _disposed;

    // Threads other than the writer waiting for _writeLock (a checkpoint's roll, the fsync timer):
    // the writer then hands the lock over instead of looping, or it could starve them under load.
    private int _writeLockWaiters;

    private MetricLog(string directory, long segmentSize, FsyncPolicy fsync, ILogger logger)
    {
        _directory = directory;
        _segmentSize = segmentSize;
        _fsync = fsync;
        _logger = logger;
    }

    /// <summary>Raised (on the writing thread) when the log has grown enough since the last snapshot.</summary>
    public event Action? CheckpointDue;

    /// <summary>True when the files loaded at start included the first format, which a checkpoint replaces.</summary>
    public bool LoadedFirstFormat { get; private set; }

    /// <summary>Bytes of segments not covered by a snapshot yet.</summary>
    public long LogBytes
    {
        get
        {
            lock (_writeLock)
            {
                return _bytesSinceSnapshot;
            }
        }
    }

    /// <summary>Whether the log has outgrown its bound since the last snapshot (see <see cref="MetricsOptions.SegmentSize"/>).</summary>
    public bool CheckpointIsDue
    {
        get
        {
            lock (_writeLock)
            {
                return IsCheckpointDue();
            }
        }
    }

    /// <summary>The size of the last snapshot written or loaded.</summary>
    public long SnapshotBytes
    {
        get
        {
            lock (_writeLock)
            {
                return _snapshotLength;
            }
        }
    }

    /// <summary>
    /// Opens the log in <paramref name="directory"/>, loads the newest snapshot and replays the later
    /// segments into <paramref name="target"/>, cuts off a torn tail, and starts a new segment.
    /// </summary>
    public static MetricLog Open(string directory, long segmentSize, FsyncPolicy fsync, ILogger logger, IReplayTarget target)
    {
        Directory.CreateDirectory(directory);
        var log = new MetricLog(directory, segmentSize, fsync, logger);
        int lastSegment = log.Recover(target);
        log.StartSegment(lastSegment + 1);
        return log;
    }

    /// <summary>Appends one put to the log buffer; returns the position to commit before acknowledging it.</summary>
    /// <remarks>The caller holds the series lock, so the log sees the puts of one series in the order memory did.</remarks>
    public long Append(MetricSeries series, long timestamp, double value)
    {
        ulong bits = (ulong)BitConverter.DoubleToInt64Bits(value);
        lock (_appendLock)
        {
            int needed = MetricLogFormat.MaxPutSize + 11 + series.Key.Length;
            if (_active.Length - _activeLength < needed)
            {
                Array.Resize(ref _active, Math.Max(_active.Length * 2, _activeLength + needed));
            }

            int start = _activeLength;
            Span<byte> destination = _active.AsSpan(_activeLength);
            if (series.LogEpoch != _epoch)
            {
                // First put of this series in the segment: name it.
                series.LogEpoch = _epoch;
                series.LogId = _nextId++;
                series.LogTimestamp = 0;
                series.LogValueBits = 0;
                int defined = MetricLogFormat.WriteDefine(destination, series.LogId, series.Key);
                destination = destination[defined..];
                _activeLength += defined;
            }

            _activeLength += MetricLogFormat.WritePut(destination, series.LogId, unchecked(timestamp - series.LogTimestamp), bits ^ series.LogValueBits);
            series.LogTimestamp = timestamp;
            series.LogValueBits = bits;
            _appendedPosition += _activeLength - start;
            return _appendedPosition;
        }
    }

    /// <summary>
    /// Completes once everything appended up to <paramref name="position"/> is in the segment file
    /// (and on disk under <see cref="FsyncPolicy.Always"/>). When no write is under way the caller
    /// writes at once, for itself and every connection that appended before it (no thread hop when
    /// the server is quiet); otherwise it waits for the write under way or the next one, which the
    /// writer makes for all the connections waiting by then (group commit).
    /// </summary>
    /// <exception cref="IOException">The log could not be written; nothing more will be acknowledged.</exception>
    public ValueTask CommitAsync(long position)
    {
        if (Volatile.Read(ref _writtenPosition) >= position)
        {
            return ValueTask.CompletedTask;
        }

        Task task;
        lock (_appendLock)
        {
            if (_failure is not null)
            {
                return ValueTask.FromException(Failed());
            }

            if (_writtenPosition >= position)
            {
                return ValueTask.CompletedTask;
            }

            if (!_writing)
            {
                // Lead (below, outside the lock: writing takes the write lock, which is taken before this one).
                _writing = true;
                task = Task.CompletedTask;
            }
            else if (position <= _takenPosition)
            {
                // Taken by the write in progress.
                _inFlightCommit ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                task = _inFlightCommit.Task;
            }
            else
            {
                _pendingCommit ??= new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
                task = _pendingCommit.Task;
            }
        }

        return task == Task.CompletedTask ? Lead() : new ValueTask(task);
    }

    /// <summary>Writes on the caller's thread; commits that queued up meanwhile go to the writer.</summary>
    private ValueTask Lead()
    {
        IOException? failed = null;
        try
        {
            using (EnterWriteLock())
            {
                WritePending(forceRoll: false);
            }
        }
        catch (IOException ex)
        {
            failed = ex;
        }

        bool handOver;
        lock (_appendLock)
        {
            handOver = _pendingCommit is not null && _failure is null;
            _writing = handOver;
        }

        if (handOver)
        {
            ThreadPool.UnsafeQueueUserWorkItem(s_runWriter, this, preferLocal: false);
        }

        return failed is null ? ValueTask.CompletedTask : ValueTask.FromException(failed);
    }

    /// <summary>Writes everything appended up to <paramref name="position"/> now, on this thread.</summary>
    /// <exception cref="IOException">The log could not be written.</exception>
    public void Commit(long position)
    {
        if (Volatile.Read(ref _writtenPosition) >= position)
        {
            return;
        }

        using (EnterWriteLock())
        {
            if (Volatile.Read(ref _writtenPosition) < position)
            {
                WritePending(forceRoll: false);
            }
        }
    }

    /// <summary>fsyncs the active segment if anything was written since the last fsync.</summary>
    public void FlushToDisk()
    {
        using (EnterWriteLock())
        {
            if (_dirty && !_disposed && Volatile.Read(ref _failure) is null)
            {
                RandomAccess.FlushToDisk(_segment);
                _dirty = false;
            }
        }
    }

    /// <summary>
    /// Rolls the log, writes a snapshot covering every closed segment (<paramref name="writeSeries"/>
    /// fills it), then deletes the segments and older snapshots it covers.
    /// </summary>
    /// <param name="writeSeries">Writes every series into the snapshot.</param>
    /// <param name="waitForRunning">False (background requests): return at once if a checkpoint is running. True: wait for it, then write a new one.</param>
    /// <returns>Whether a snapshot was written.</returns>
    public bool Checkpoint(Action<MetricSnapshot.Writer> writeSeries, bool waitForRunning = false)
    {
        if (waitForRunning)
        {
            _checkpointLock.Enter();
        }
        else if (!_checkpointLock.TryEnter())
        {
            return false;
        }

        try
        {
            int upTo;
            long covered;
            using (EnterWriteLock())
            {
                if (_disposed || Volatile.Read(ref _failure) is not null)
                {
                    return false;
                }

                WritePending(forceRoll: true);
                upTo = _segmentNumber - 1;
                covered = _bytesSinceSnapshot;
            }

            long started = Environment.TickCount64;
            string path = SnapshotPath(upTo);
            string temporary = path + ".tmp";
            long points;
            using (var writer = new MetricSnapshot.Writer(temporary))
            {
                writeSeries(writer);
                writer.Complete();
                points = writer.Points;
            }

            File.Move(temporary, path, overwrite: true);
            DirectorySync.Flush(_directory);
            long length = new FileInfo(path).Length;
            lock (_writeLock)
            {
                _snapshotLength = length;
                _bytesSinceSnapshot -= covered;
            }

            DeleteFilesCoveredBy(upTo);
            LoadedFirstFormat = false;
            _logger.LogInformation("Metrics checkpoint up to segment {Segment}: snapshot of {Points} points, {Bytes} bytes, in {Milliseconds} ms", upTo, points, length, Environment.TickCount64 - started);
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            lock (_writeLock)
            {
                _retryCheckpointAt = Environment.TickCount64 + 10_000;
            }

            _logger.LogError(ex, "Writing a metrics snapshot failed; the log segments are kept and the checkpoint will be retried");
            return false;
        }
        finally
        {
            _checkpointLock.Exit();
        }
    }

    public void Dispose()
    {
        // Let a running checkpoint finish so no file is half-written or deleted under a successor.
        using Lock.Scope checkpoint = _checkpointLock.EnterScope();
        lock (_writeLock)
        {
            if (_disposed)
            {
                return;
            }

            try
            {
                if (Volatile.Read(ref _failure) is null)
                {
                    WritePending(forceRoll: false);
                    if (_fsync != FsyncPolicy.Never && _dirty)
                    {
                        RandomAccess.FlushToDisk(_segment);
                    }
                }
            }
            catch (IOException ex)
            {
                _logger.LogError(ex, "Flushing the metrics log on shutdown failed");
            }
            finally
            {
                _logger.LogInformation("Metrics log closed after {Writes} writes of {Bytes} bytes of records", _writes, _appendedPosition);

                // From here a commit fails (its connection is closed without the acknowledgement) instead of writing to a closed file.
                _disposed = true;
                _segment.Dispose();
            }
        }
    }

    private Lock.Scope EnterWriteLock()
    {
        Interlocked.Increment(ref _writeLockWaiters);
        try
        {
            return _writeLock.EnterScope();
        }
        finally
        {
            Interlocked.Decrement(ref _writeLockWaiters);
        }
    }

    private void RunWriter()
    {
        while (true)
        {
            if (Volatile.Read(ref _writeLockWaiters) > 0)
            {
                // Let the waiting thread have the lock; carry on from a fresh work item.
                ThreadPool.UnsafeQueueUserWorkItem(s_runWriter, this, preferLocal: false);
                return;
            }

            lock (_writeLock)
            {
                try
                {
                    WritePending(forceRoll: false);
                }
                catch (IOException)
                {
                    // Reported to every waiting connection by WritePending.
                }
            }

            lock (_appendLock)
            {
                if (_pendingCommit is null || _failure is not null)
                {
                    _writing = false;
                    return;
                }
            }
        }
    }

    /// <summary>Takes the appended frame and writes it (caller holds the write lock).</summary>
    private void WritePending(bool forceRoll)
    {
        byte[] buffer;
        int length;
        long end;
        bool roll;
        lock (_appendLock)
        {
            if (_failure is not null)
            {
                throw Failed();
            }

            buffer = _active;
            length = _activeLength;
            end = _appendedPosition;
            _active = _spare ?? new byte[BufferSize];
            _spare = null;
            _activeLength = MetricLogFormat.FrameHeaderSize;
            _takenPosition = end;
            _inFlightCommit = _pendingCommit;
            _pendingCommit = null;

            // The next frame goes to a new segment: series are named afresh in it.
            roll = forceRoll || _segmentLength + length >= _segmentSize;
            if (roll)
            {
                _epoch++;
                _nextId = 0;
            }
        }

        try
        {
            ObjectDisposedException.ThrowIf(_disposed, this);
            if (length > MetricLogFormat.FrameHeaderSize)
            {
                MetricLogFormat.CompleteFrame(buffer.AsSpan(0, length));
                RandomAccess.Write(_segment, buffer.AsSpan(0, length), _segmentLength);
                _writes++;
                _segmentLength += length;
                _bytesSinceSnapshot += length;
                _dirty = true;
                if (_fsync == FsyncPolicy.Always)
                {
                    RandomAccess.FlushToDisk(_segment);
                    _dirty = false;
                }
            }

            if (roll)
            {
                RollSegment();
            }
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException or ObjectDisposedException)
        {
            if (ex is not ObjectDisposedException)
            {
                _logger.LogCritical(ex, "Writing the metrics log failed; puts are refused from now on");
            }

            TaskCompletionSource? inFlight;
            TaskCompletionSource? pending;
            lock (_appendLock)
            {
                _failure = ex;
                inFlight = _inFlightCommit;
                pending = _pendingCommit;
                _inFlightCommit = _pendingCommit = null;
            }

            inFlight?.TrySetException(Failed());
            pending?.TrySetException(Failed());
            throw Failed();
        }

        TaskCompletionSource? done;
        lock (_appendLock)
        {
            Volatile.Write(ref _writtenPosition, end);
            done = _inFlightCommit;
            _inFlightCommit = null;
            if (buffer.Length <= 16 * BufferSize)
            {
                _spare = buffer;
            }
        }

        done?.TrySetResult();
        if (!forceRoll && IsCheckpointDue())
        {
            CheckpointDue?.Invoke();
        }
    }

    /// <summary>
    /// The log may hold <see cref="_segmentSize"/> bytes, or an eighth of the snapshot when that is
    /// more: then a snapshot rewrite costs at most eight bytes per log byte, and the disk holds at
    /// most an eighth more than the snapshot plus one segment.
    /// </summary>
    private bool IsCheckpointDue() => _bytesSinceSnapshot >= Math.Max(_segmentSize, _snapshotLength / 8) && Environment.TickCount64 >= _retryCheckpointAt;

    private IOException Failed() => new("The metrics log could not be written; puts are refused until the server restarts.", _failure);

    private int Recover(IReplayTarget target)
    {
        foreach (string leftover in Directory.EnumerateFiles(_directory, "*.tmp"))
        {
            File.Delete(leftover);
        }

        int covered = 0;
        List<(int Number, string Path)> snapshots = ListFiles("snapshot-", ".snap");
        for (int i = snapshots.Count - 1; i >= 0; i--)
        {
            (int number, string path) = snapshots[i];
            byte[] magic = MetricLogReader.ReadMagic(path);
            bool complete;
            long points;
            if (magic.AsSpan().SequenceEqual(MetricLogRecord.SnapshotMagic))
            {
                MetricLogReader.Result result = MetricLogReader.ReadFirstFormat(path, MetricLogRecord.SnapshotMagic, target);
                (complete, points) = (result.SawSnapshotEnd, result.Records);
                LoadedFirstFormat = true;
            }
            else
            {
                MetricSnapshot.Result result = MetricSnapshot.Read(path, target);
                (complete, points) = (result.Complete, result.Points);
            }

            if (complete)
            {
                covered = number;
                _snapshotLength = new FileInfo(path).Length;
                _logger.LogInformation("Loaded metrics snapshot {Path}: {Points} points", path, points);
                break;
            }

            _logger.LogError("Metrics snapshot {Path} is incomplete or corrupt after {Points} points; trying an older one", path, points);
            target.Reset();
        }

        int last = covered;
        long replayed = 0;
        int replayedSegments = 0;
        foreach ((int number, string path) in ListFiles("segment-", ".log"))
        {
            if (number <= covered)
            {
                File.Delete(path);
                continue;
            }

            byte[] magic = MetricLogReader.ReadMagic(path);
            MetricLogReader.Result result;
            if (magic.AsSpan().SequenceEqual(MetricLogRecord.SegmentMagic))
            {
                result = MetricLogReader.ReadFirstFormat(path, MetricLogRecord.SegmentMagic, target);
                LoadedFirstFormat = true;
            }
            else
            {
                result = MetricLogReader.ReadSegment(path, target);
            }

            replayed += result.Records;
            replayedSegments++;
            long length = new FileInfo(path).Length;
            if (!result.Clean || result.ValidLength != length)
            {
                // Only the tail of a crash is expected here; keep everything before it.
                _logger.LogWarning("Metrics log {Path}: dropped {Bytes} torn or corrupt bytes after {Records} good records", path, length - result.ValidLength, result.Records);
                using var handle = File.OpenHandle(path, FileMode.Open, FileAccess.ReadWrite);
                RandomAccess.SetLength(handle, result.ValidLength);
            }

            _bytesSinceSnapshot += result.ValidLength;
            last = number;
        }

        _logger.LogInformation("Replayed {Records} records from {Segments} metrics log segments in {Directory}", replayed, replayedSegments, _directory);
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
        RandomAccess.Write(_segment, MetricLogFormat.SegmentMagic, 0);
        if (_fsync == FsyncPolicy.Always)
        {
            RandomAccess.FlushToDisk(_segment);
            DirectorySync.Flush(_directory);
        }

        _segmentNumber = number;
        _segmentLength = MetricLogFormat.SegmentMagic.Length;
    }

    private void RollSegment()
    {
        SafeFileHandle closing = _segment;
        bool needsFsync = _dirty && _fsync == FsyncPolicy.Interval;
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
