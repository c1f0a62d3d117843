using System.Globalization;
using Microsoft.Win32.SafeHandles;
using Rto.Server.Storage;

namespace Rto.Server.Metrics;

/// <summary>The log's files: opening and recovery, segments rolling, checkpoints and what they delete.</summary>
internal sealed partial class MetricLog
{
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
