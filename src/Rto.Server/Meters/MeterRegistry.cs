using System.Collections.Frozen;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>
/// The known meters, loaded from <see cref="MetersOptions.RegistryPath"/> and reloaded when the
/// file changes. A reload that fails keeps the previous registry.
/// </summary>
internal sealed partial class MeterRegistry : IDisposable
{
    private readonly string _path;
    private readonly ILogger<MeterRegistry> _logger;
    private readonly FileSystemWatcher _watcher;
    private volatile FrozenDictionary<uint, MeterDefinition> _meters;
    private long _version;

    public MeterRegistry(string path, ILogger<MeterRegistry> logger)
    {
        _path = Path.GetFullPath(path);
        _logger = logger;
        if (!File.Exists(_path))
        {
            throw new InvalidOperationException($"Meters:RegistryPath '{_path}' does not exist.");
        }

        _meters = Load();
        _watcher = new FileSystemWatcher(Path.GetDirectoryName(_path)!, Path.GetFileName(_path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size,
        };
        _watcher.Changed += OnChanged;
        _watcher.Created += OnChanged;
        _watcher.Renamed += OnChanged;
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Incremented on every successful load; tests wait on it.</summary>
    public long Version => Interlocked.Read(ref _version);

    public FrozenDictionary<uint, MeterDefinition> Meters => _meters;

    public bool TryGet(uint ip, out MeterDefinition meter) => _meters.TryGetValue(ip, out meter);

    /// <summary>Reads the file again; returns false (keeping the old registry) when it cannot be read.</summary>
    public bool Reload()
    {
        try
        {
            _meters = Load();
            return true;
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            LogReloadFailed(ex, _path);
            return false;
        }
    }

    public void Dispose() => _watcher.Dispose();

    private void OnChanged(object sender, FileSystemEventArgs e) => Reload();

    private FrozenDictionary<uint, MeterDefinition> Load()
    {
        MeterRegistryContent content = MeterRegistryReader.ReadFileAsync(_path).GetAwaiter().GetResult();
        foreach (MeterRegistryError error in content.Errors)
        {
            LogBadLine(_path, error.LineNumber, error.Text);
        }

        var meters = new Dictionary<uint, MeterDefinition>();
        foreach (MeterDefinition meter in content.Meters)
        {
            meters[meter.Ip] = meter;
        }

        Interlocked.Increment(ref _version);
        LogLoaded(meters.Count, _path);
        return meters.ToFrozenDictionary();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter registry: {Count} meters from {Path}")]
    private partial void LogLoaded(int count, string path);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter registry {Path} line {LineNumber} ignored: '{Text}'")]
    private partial void LogBadLine(string path, int lineNumber, string text);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter registry {Path} could not be reloaded; the previous registry stays")]
    private partial void LogReloadFailed(Exception exception, string path);
}
