using System.Collections.Frozen;
using System.Text;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>How a registry reload ended.</summary>
/// <param name="Swapped">Whether the new file replaced the registry (false: the previous one stays).</param>
/// <param name="Added">Meters in the new file only.</param>
/// <param name="Removed">Meters in the previous registry only.</param>
/// <param name="Changed">Meters whose range or unit changed.</param>
internal readonly record struct MeterRegistryReload(bool Swapped, int Added, int Removed, int Changed);

/// <summary>
/// The known meters, loaded from <see cref="MetersOptions.RegistryPath"/> and reloaded when the
/// file changes. A reload waits until the file has been quiet for a short delay (editors save in
/// several steps) and replaces the registry only when the whole new file is valid. Meters are
/// looked up by their name as text, exactly (<c>010.0.0.1</c> is not <c>10.0.0.1</c>), as the
/// original server looked them up in its dictionary.
/// </summary>
internal sealed partial class MeterRegistry : IDisposable
{
    private readonly string _path;
    private readonly ILogger<MeterRegistry> _logger;
    private readonly FileSystemWatcher _watcher;
    private readonly Timer _debounce;
    private readonly TimeSpan _reloadDelay;
    private volatile MeterIndex _meters;
    private long _version;

    public MeterRegistry(string path, ILogger<MeterRegistry> logger, TimeSpan? reloadDelay = null)
    {
        _path = System.IO.Path.GetFullPath(path);
        _logger = logger;
        _reloadDelay = reloadDelay ?? TimeSpan.FromMilliseconds(300);
        if (!File.Exists(_path))
        {
            throw new InvalidOperationException($"Meters:RegistryPath '{_path}' does not exist.");
        }

        // At start a bad line is only skipped: there is no previous registry to keep.
        MeterRegistryContent content = Read();
        foreach (MeterRegistryError error in content.Errors)
        {
            LogBadLine(_path, error.LineNumber, error.Text);
        }

        _meters = Index(content);
        _version = 1;
        LogLoaded(_meters.Meters.Count, _path);
        _debounce = new Timer(static state => ((MeterRegistry)state!).Reload(), this, Timeout.Infinite, Timeout.Infinite);
        _watcher = new FileSystemWatcher(System.IO.Path.GetDirectoryName(_path)!, System.IO.Path.GetFileName(_path))
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size,
        };
        _watcher.Changed += OnChanged;
        _watcher.Created += OnChanged;
        _watcher.Renamed += OnChanged;
        _watcher.EnableRaisingEvents = true;
    }

    /// <summary>Raised after every reload attempt, on a timer thread.</summary>
    public event Action<MeterRegistryReload>? Reloaded;

    /// <summary>Incremented on every successful load.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>The file the registry is read from.</summary>
    public string Path => _path;

    public FrozenDictionary<string, MeterDefinition> Meters => _meters.Meters;

    public bool TryGet(string meter, out MeterDefinition definition) => _meters.Meters.TryGetValue(meter, out definition);

    /// <summary>Looks a meter up by its UTF-8 name as received, without allocating (names up to 256 bytes).</summary>
    public bool TryGet(ReadOnlySpan<byte> meter, out MeterDefinition definition)
    {
        // A UTF-8 name never has more UTF-16 units than bytes.
        Span<char> name = meter.Length <= 256 ? stackalloc char[meter.Length] : new char[meter.Length];
        int length = Encoding.UTF8.GetChars(meter, name);
        return _meters.ByChars.TryGetValue(name[..length], out definition);
    }

    /// <summary>
    /// Replaces the registry with <paramref name="content"/> read from <paramref name="source"/>
    /// (the cluster's bucket), all or nothing as a reload of the file; does not raise <see cref="Reloaded"/>.
    /// </summary>
    public MeterRegistryReload Replace(MeterRegistryContent content, string source) => Swap(content, source);

    /// <summary>
    /// Reads the file again and swaps it in when it is fully valid; otherwise keeps the previous
    /// registry and logs one error naming the first bad line.
    /// </summary>
    public MeterRegistryReload Reload()
    {
        MeterRegistryReload result;
        try
        {
            result = Swap(Read(), _path);
        }
        catch (Exception ex)
        {
            // Runs on a timer thread: whatever the file holds, the server keeps going.
            LogReloadFailed(ex, _path);
            result = default;
        }

        Reloaded?.Invoke(result);
        return result;
    }

    public void Dispose()
    {
        _watcher.Dispose();
        _debounce.Dispose();
    }

    // Every event restarts the delay, so a save in several steps is read once, after the last step.
    private void OnChanged(object sender, FileSystemEventArgs e) => _debounce.Change(_reloadDelay, Timeout.InfiniteTimeSpan);

    /// <summary>Swaps in <paramref name="content"/> when it is fully valid; otherwise keeps the previous registry and logs one error naming the first bad line.</summary>
    private MeterRegistryReload Swap(MeterRegistryContent content, string source)
    {
        if (content.Errors.Count > 0)
        {
            MeterRegistryError first = content.Errors[0];
            LogRejected(source, first.LineNumber, first.Text, content.Errors.Count);
            return default;
        }

        if (content.Meters.Count == 0)
        {
            LogEmpty(source);
            return default;
        }

        FrozenDictionary<string, MeterDefinition> previous = _meters.Meters;
        MeterIndex index = Index(content);
        FrozenDictionary<string, MeterDefinition> next = index.Meters;
        int added = next.Keys.Count(meter => !previous.ContainsKey(meter));
        int removed = previous.Keys.Count(meter => !next.ContainsKey(meter));
        int changed = next.Count(pair => previous.TryGetValue(pair.Key, out MeterDefinition old) && old != pair.Value);
        _meters = index;
        Interlocked.Increment(ref _version);
        LogReloaded(source, next.Count, added, removed, changed);
        return new MeterRegistryReload(true, added, removed, changed);
    }

    private MeterRegistryContent Read() => MeterRegistryReader.ReadFileAsync(_path).GetAwaiter().GetResult();

    private static MeterIndex Index(MeterRegistryContent content)
    {
        var meters = new Dictionary<string, MeterDefinition>(StringComparer.Ordinal);
        foreach (MeterDefinition meter in content.Meters)
        {
            meters[meter.Meter] = meter;
        }

        FrozenDictionary<string, MeterDefinition> frozen = meters.ToFrozenDictionary(StringComparer.Ordinal);
        return new MeterIndex(frozen, frozen.GetAlternateLookup<ReadOnlySpan<char>>());
    }

    /// <summary>One version of the registry: by name, and the same by a span of the name's characters.</summary>
    private sealed record MeterIndex(FrozenDictionary<string, MeterDefinition> Meters, FrozenDictionary<string, MeterDefinition>.AlternateLookup<ReadOnlySpan<char>> ByChars);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter registry: {Count} meters from {Path}")]
    private partial void LogLoaded(int count, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter registry {Path} reloaded: {Count} meters, {Added} added, {Removed} removed, {Changed} changed")]
    private partial void LogReloaded(string path, int count, int added, int removed, int changed);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter registry {Path} line {LineNumber} ignored: '{Text}'")]
    private partial void LogBadLine(string path, int lineNumber, string text);

    [LoggerMessage(Level = LogLevel.Error, Message = "Meter registry {Path} not reloaded, the previous registry stays: line {LineNumber} is not 'meter<TAB>range_start<TAB>range_stop<TAB>unit': '{Text}' ({ErrorCount} bad lines in all)")]
    private partial void LogRejected(string path, int lineNumber, string text, int errorCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Meter registry {Path} not reloaded, the previous registry stays: the file has no meters")]
    private partial void LogEmpty(string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Meter registry {Path} could not be read; the previous registry stays")]
    private partial void LogReloadFailed(Exception exception, string path);
}
