using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Rto.Server.Storage;

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
internal sealed partial class MetricLog : IDisposable
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

}
