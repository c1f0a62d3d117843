using System.Collections.Concurrent;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>
/// The valid readings: a bounded in-memory window per meter and an append-only
/// <c>readings.log</c> (the same TSV lines the meters send) on disk. Thread-safe.
/// </summary>
internal sealed class MeterStore : IDisposable
{
    private readonly ConcurrentDictionary<uint, MeterWindow> _windows = new();
    private readonly Func<uint, MeterWindow> _createWindow;
    private readonly FileStream _log;
    private readonly Lock _logLock = new();
    private long _version;

    public MeterStore(MetersOptions options)
    {
        Directory.CreateDirectory(options.DataDirectory);
        LogPath = Path.Combine(options.DataDirectory, "readings.log");
        _log = new FileStream(LogPath, FileMode.Append, FileAccess.Write, FileShare.ReadWrite | FileShare.Delete, 64 * 1024);
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
        }

        Interlocked.Increment(ref _version);
    }

    public bool TryGetWindow(uint ip, out MeterWindow window) => _windows.TryGetValue(ip, out window!);

    public List<TimedValue> Query(uint ip, long from, long to, int limit) =>
        _windows.TryGetValue(ip, out MeterWindow? window) ? window.Query(from, to, limit) : [];

    public void Dispose()
    {
        lock (_logLock)
        {
            _log.Dispose();
        }
    }
}
