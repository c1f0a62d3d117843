using System.Collections.Concurrent;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>
/// The valid readings: a bounded in-memory window per meter and an append-only
/// <c>readings.log</c> (the same TSV lines the meters send) on disk. Thread-safe.
/// </summary>
/// <remarks>
/// The log rotates at <see cref="MetersOptions.ReadingsLogMaxBytes"/> and keeps
/// <see cref="MetersOptions.ReadingsLogFilesKept"/> older files, so a sustained stream of
/// readings (millions per second are possible) cannot fill the disk. On start the kept files are
/// replayed, oldest first, into the windows; memory stays bounded by the windows.
/// </remarks>
internal sealed partial class MeterStore : IDisposable
{
    private readonly ConcurrentDictionary<string, MeterWindow> _windows = new(StringComparer.Ordinal);
    private readonly Func<string, MeterWindow> _createWindow;
    private readonly MeterLogFile? _log;
    private readonly ILogger _logger;
    private long _version;

    public MeterStore(MetersOptions options, ILogger<MeterStore>? logger = null)
        : this(options, logger, replica: false)
    {
    }

    private MeterStore(MetersOptions options, ILogger<MeterStore>? logger, bool replica)
    {
        _logger = logger ?? NullLogger<MeterStore>.Instance;
        LogPath = Path.Combine(options.DataDirectory, "readings.log");
        int capacity = options.WindowSize;
        _createWindow = _ => new MeterWindow(capacity);
        if (replica)
        {
            // The cluster's stream is the log: the windows are rebuilt from it (MetersReplication).
            return;
        }

        Directory.CreateDirectory(options.DataDirectory);
        _log = MeterLogFile.Open(LogPath, options.Fsync, options.FsyncInterval, options.ReadingsLogMaxBytes, options.ReadingsLogFilesKept, Replay, out LogReplay replay);
        _log.FsyncFailed = ex => LogFsyncFailed(ex, LogPath);
        Replayed = replay;
        LogReplayed(LogPath, replay.Lines, replay.CorruptLines, replay.TornBytes, replay.Elapsed.TotalMilliseconds);
    }

    /// <summary>A store without a log of its own, for cluster mode: readings come from the cluster's stream, which is the log.</summary>
    public static MeterStore CreateReplica(MetersOptions options, ILogger<MeterStore>? logger = null) => new(options, logger, replica: true);

    /// <summary>Whether this is a cluster replica (no log: the stream is the log).</summary>
    public bool IsReplica => _log is null;

    public string LogPath { get; }

    /// <summary>What was read back from the log at start.</summary>
    public LogReplay Replayed { get; }

    /// <summary>Incremented whenever readings are added; the power calculator skips a tick when it has not moved.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Keeps a valid reading; <paramref name="meter"/> is the registry's own string, so nothing is allocated.</summary>
    public void Add(string meter, long timestamp, double value) => _windows.GetOrAdd(meter, _createWindow).Add(timestamp, value);

    /// <summary>The meters that have readings in memory.</summary>
    public ICollection<string> Meters => _windows.Keys;

    /// <summary>Appends already formatted lines to the log and marks new data for the power calculator.</summary>
    public void AppendLog(ReadOnlySpan<byte> lines)
    {
        _log?.Append(lines);
        Interlocked.Increment(ref _version);
    }

    /// <summary>fsyncs the readings log now (the interval timer does this under <c>Fsync=Interval</c>).</summary>
    public void FlushToDisk() => _log?.FlushToDisk();

    public bool TryGetWindow(string meter, out MeterWindow window) => _windows.TryGetValue(meter, out window!);

    public List<TimedValue> Query(string meter, long from, long to, int limit) =>
        _windows.TryGetValue(meter, out MeterWindow? window) ? window.Query(from, to, limit) : [];

    /// <summary>The path of the n-th rotated log (1 is the newest).</summary>
    public string RotatedLogPath(int n) => MeterLogFile.RotatedPath(LogPath, n);

    public void Dispose() => _log?.Dispose();

    /// <summary>Keeps the reading of one line as <c>readings.log</c> holds it (a replayed line, or one from the cluster's stream); false for a damaged line.</summary>
    public bool AddLogLine(ReadOnlySpan<byte> line) => Replay(line);

    private bool Replay(ReadOnlySpan<byte> line)
    {
        // Only accepted readings were written, so every line is finite; anything else is damage.
        if (!MeterLineParser.TryParse(line, out ReadOnlySpan<byte> meter, out long timestamp, out double value) || !double.IsFinite(value) || meter.IsEmpty)
        {
            return false;
        }

        Span<char> name = meter.Length <= 256 ? stackalloc char[meter.Length] : new char[meter.Length];
        name = name[..Encoding.UTF8.GetChars(meter, name)];
        if (!_windows.GetAlternateLookup<ReadOnlySpan<char>>().TryGetValue(name, out MeterWindow? window))
        {
            window = _windows.GetOrAdd(new string(name), _createWindow);
        }

        window.Add(timestamp, value);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter readings replayed from {Path}: {Lines} lines, {CorruptLines} corrupt lines skipped, {TornBytes} bytes of a torn last line dropped, in {ElapsedMs:0.0} ms")]
    private partial void LogReplayed(string path, long lines, long corruptLines, long tornBytes, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "fsync of {Path} failed")]
    private partial void LogFsyncFailed(Exception exception, string path);
}
