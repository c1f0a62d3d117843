using System.Collections.Concurrent;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>
/// The valid readings: a bounded in-memory window per meter and an append-only
/// <c>readings.log</c> (the same TSV lines the meters send) on disk. Thread-safe.
/// </summary>
/// <remarks>
/// The log rotates at <see cref="MetersOptions.ReadingsLogMaxBytes"/> and keeps
/// <see cref="MetersOptions.ReadingsLogFilesKept"/> older files, so a sustained stream of
/// readings (millions per second are possible) cannot fill the disk.
/// </remarks>
internal sealed class MeterStore : IDisposable
{
    private readonly ConcurrentDictionary<uint, MeterWindow> _windows = new();
    private readonly Func<uint, MeterWindow> _createWindow;
    private readonly Lock _logLock = new();
    private readonly long _maxLogBytes;
    private readonly int _filesKept;
    private FileStream _log;
    private long _version;

    public MeterStore(MetersOptions options)
    {
        Directory.CreateDirectory(options.DataDirectory);
        LogPath = Path.Combine(options.DataDirectory, "readings.log");
        _maxLogBytes = options.ReadingsLogMaxBytes;
        _filesKept = options.ReadingsLogFilesKept;
        _log = OpenLog();
        int capacity = options.WindowSize;
        _createWindow = _ => new MeterWindow(capacity);
    }

    public string LogPath { get; }

    /// <summary>Incremented whenever readings are added; the power calculator skips a tick when it has not moved.</summary>
    public long Version => Interlocked.Read(ref _version);

    public void Add(in MeterReading reading) => _windows.GetOrAdd(reading.Ip, _createWindow).Add(reading.Timestamp, reading.Value);

    /// <summary>Appends already formatted lines to the log and marks new data for the power calculator.</summary>
    public void AppendLog(ReadOnlySpan<byte> lines)
    {
        lock (_logLock)
        {
            _log.Write(lines);
            _log.Flush();
            if (_log.Length >= _maxLogBytes)
            {
                Rotate();
            }
        }

        Interlocked.Increment(ref _version);
    }

    public bool TryGetWindow(uint ip, out MeterWindow window) => _windows.TryGetValue(ip, out window!);

    public List<TimedValue> Query(uint ip, long from, long to, int limit) =>
        _windows.TryGetValue(ip, out MeterWindow? window) ? window.Query(from, to, limit) : [];

    /// <summary>The path of the n-th rotated log (1 is the newest).</summary>
    public string RotatedLogPath(int n) => Path.ChangeExtension(LogPath, $".{n}.log");

    private FileStream OpenLog() => new(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);

    private void Rotate()
    {
        _log.Dispose();
        if (_filesKept == 0)
        {
            File.Delete(LogPath);
        }
        else
        {
            File.Delete(RotatedLogPath(_filesKept));
            for (int n = _filesKept - 1; n >= 1; n--)
            {
                if (File.Exists(RotatedLogPath(n)))
                {
                    File.Move(RotatedLogPath(n), RotatedLogPath(n + 1));
                }
            }

            File.Move(LogPath, RotatedLogPath(1));
        }

        _log = OpenLog();
    }

    public void Dispose()
    {
        lock (_logLock)
        {
            _log.Dispose();
        }
    }
}
