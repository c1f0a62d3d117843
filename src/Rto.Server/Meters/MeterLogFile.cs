using System.Diagnostics;
using Rto.Server.Storage;

namespace Rto.Server.Meters;

/// <summary>Handles one replayed log line; returns false when the line is not valid (it is then counted as corrupt).</summary>
internal delegate bool LogLineHandler(ReadOnlySpan<byte> line);

/// <summary>What replaying a log found.</summary>
internal readonly record struct LogReplay(long Lines, long CorruptLines, long TornBytes, TimeSpan Elapsed);

/// <summary>
/// An append-only text log of whole <c>\n</c>-terminated lines with an fsync policy and optional
/// size rotation (<c>name.log</c> → <c>name.1.log</c> → … <c>name.N.log</c>). Thread-safe.
/// </summary>
/// <remarks>
/// Every append reaches the OS before it returns (a killed process loses nothing that was
/// appended); <see cref="FsyncPolicy"/> decides when it reaches the disk. Under
/// <see cref="FsyncPolicy.Interval"/> a timer fsyncs outside the write lock, so the hot path never
/// waits for the disk.
/// </remarks>
internal sealed class MeterLogFile : IDisposable
{
    private const int ReadBufferSize = 64 * 1024;

    private readonly Lock _lock = new();
    private readonly FsyncPolicy _fsync;
    private readonly long _maxBytes;
    private readonly int _filesKept;
    private readonly Timer? _fsyncTimer;
    private FileStream _file;
    private bool _dirty;
    private bool _disposed;

    private MeterLogFile(string path, FsyncPolicy fsync, TimeSpan fsyncInterval, long maxBytes, int filesKept, long validLength)
    {
        Path = path;
        _fsync = fsync;
        _maxBytes = maxBytes;
        _filesKept = filesKept;
        _file = OpenForAppend(validLength);
        if (fsync == FsyncPolicy.Interval)
        {
            _fsyncTimer = new Timer(static state => ((MeterLogFile)state!).TryFlushToDisk(), this, fsyncInterval, fsyncInterval);
        }
    }

    public string Path { get; }

    /// <summary>Called (on a timer thread) when an interval fsync fails; the log keeps going.</summary>
    public Action<Exception>? FsyncFailed { get; set; }

    /// <summary>
    /// Replays the kept rotated files (oldest first) and then the active file line by line, streaming,
    /// and opens the active file for appending. A torn last line of the active file (a crash in the
    /// middle of a write) is cut off so the next append starts on a line boundary.
    /// </summary>
    public static MeterLogFile Open(string path, FsyncPolicy fsync, TimeSpan fsyncInterval, long maxBytes, int filesKept, LogLineHandler onLine, out LogReplay replay)
    {
        var clock = Stopwatch.StartNew();
        long lines = 0, corrupt = 0, torn = 0;
        for (int n = filesKept; n >= 1; n--)
        {
            string rotated = RotatedPath(path, n);
            if (File.Exists(rotated))
            {
                ReplayFile(rotated, onLine, ref lines, ref corrupt, ref torn);
            }
        }

        long validLength = 0;
        long activeTorn = 0;
        if (File.Exists(path))
        {
            validLength = ReplayFile(path, onLine, ref lines, ref corrupt, ref activeTorn);
        }

        replay = new LogReplay(lines, corrupt, torn + activeTorn, clock.Elapsed);
        return new MeterLogFile(path, fsync, fsyncInterval, maxBytes, filesKept, validLength);
    }

    /// <summary>The path of the n-th rotated file (1 is the newest).</summary>
    public static string RotatedPath(string path, int n) => System.IO.Path.ChangeExtension(path, $".{n}.log");

    /// <summary>Appends whole lines; fsyncs before returning under <see cref="FsyncPolicy.Always"/>.</summary>
    public void Append(ReadOnlySpan<byte> lines)
    {
        lock (_lock)
        {
            _file.Write(lines);
            _file.Flush();
            if (_fsync == FsyncPolicy.Always)
            {
                _file.Flush(flushToDisk: true);
            }
            else
            {
                _dirty = true;
            }

            if (_file.Length >= _maxBytes)
            {
                Rotate();
            }
        }
    }

    /// <summary>fsyncs what was appended since the last fsync.</summary>
    public void FlushToDisk()
    {
        FileStream file;
        lock (_lock)
        {
            if (!_dirty || _disposed)
            {
                return;
            }

            _dirty = false;
            file = _file;
        }

        try
        {
            // Outside the lock: appends go on while the disk catches up.
            RandomAccess.FlushToDisk(file.SafeFileHandle);
        }
        catch (ObjectDisposedException)
        {
            // Rotated or closed meanwhile; both fsync the file they close.
        }
    }

    public void Dispose()
    {
        _fsyncTimer?.Dispose();
        lock (_lock)
        {
            if (_disposed)
            {
                return;
            }

            _disposed = true;
            Close();
        }
    }

    private void TryFlushToDisk()
    {
        try
        {
            FlushToDisk();
        }
        catch (IOException ex)
        {
            FsyncFailed?.Invoke(ex);
        }
    }

    private FileStream OpenForAppend(long validLength)
    {
        var file = new FileStream(Path, FileMode.OpenOrCreate, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
        if (file.Length > validLength)
        {
            file.SetLength(validLength);
        }

        file.Seek(0, SeekOrigin.End);
        return file;
    }

    private void Close()
    {
        _file.Flush(flushToDisk: _fsync != FsyncPolicy.Never && _dirty);
        _dirty = false;
        _file.Dispose();
    }

    private void Rotate()
    {
        Close();
        if (_filesKept == 0)
        {
            File.Delete(Path);
        }
        else
        {
            File.Delete(RotatedPath(Path, _filesKept));
            for (int n = _filesKept - 1; n >= 1; n--)
            {
                if (File.Exists(RotatedPath(Path, n)))
                {
                    File.Move(RotatedPath(Path, n), RotatedPath(Path, n + 1));
                }
            }

            File.Move(Path, RotatedPath(Path, 1));
        }

        _file = OpenForAppend(0);
    }

    /// <summary>Streams one file's lines to <paramref name="onLine"/>; returns the length up to the end of its last whole line.</summary>
    internal static long ReplayFile(string path, LogLineHandler onLine, ref long lines, ref long corrupt, ref long torn)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        byte[] buffer = new byte[ReadBufferSize];
        long bufferOffset = 0; // file offset of buffer[0]
        long lastLineEnd = 0;
        int length = 0;
        bool skippingLongLine = false;
        int read;
        while ((read = file.Read(buffer, length, buffer.Length - length)) > 0)
        {
            length += read;
            int start = 0;
            int newline;
            while ((newline = buffer.AsSpan(start, length - start).IndexOf((byte)'\n')) >= 0)
            {
                ReadOnlySpan<byte> line = buffer.AsSpan(start, newline);
                if (skippingLongLine)
                {
                    skippingLongLine = false;
                    corrupt++;
                }
                else if (!line.IsEmpty)
                {
                    if (onLine(line))
                    {
                        lines++;
                    }
                    else
                    {
                        corrupt++;
                    }
                }

                start += newline + 1;
                lastLineEnd = bufferOffset + start;
            }

            if (start == 0 && length == buffer.Length)
            {
                // No valid line is this long: drop it up to its end.
                skippingLongLine = true;
                start = length;
            }

            buffer.AsSpan(start, length - start).CopyTo(buffer);
            bufferOffset += start;
            length -= start;
        }

        torn += bufferOffset + length - lastLineEnd;
        return lastLineEnd;
    }
}
