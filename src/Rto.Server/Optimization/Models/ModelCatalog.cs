using System.Collections.Frozen;
using System.Diagnostics.CodeAnalysis;
using Rto.Optimization.Models;

namespace Rto.Server.Optimization.Models;

/// <summary>
/// Every model CalculateCV can name: the built-ins plus one <see cref="FormulaModel"/> per
/// <c>*.model</c> file of the models folder, reloaded when files change (debounced). A file that
/// fails to compile is logged and skipped; if it had loaded before, its last good version stays.
/// A file may not shadow a built-in id. Lookups are lock-free reads of an immutable snapshot.
/// </summary>
public sealed partial class ModelCatalog : IDisposable
{
    public const string FileExtension = ".model";

    /// <summary>Editors write a file in several steps; the reload waits this long after the last event.</summary>
    private static readonly TimeSpan s_debounce = TimeSpan.FromMilliseconds(200);

    private readonly string? _directory;
    private readonly FrozenDictionary<string, ProcessModel> _builtIns;
    private readonly ILogger<ModelCatalog> _logger;
    private readonly Lock _gate = new();
    private readonly Dictionary<string, FormulaModel> _fileModels = new(StringComparer.Ordinal);
    private readonly HashSet<string> _pendingPaths = new(StringComparer.Ordinal);
    private readonly FileSystemWatcher? _watcher;
    private readonly Timer _reloadTimer;
    private volatile Snapshot _snapshot;
    private bool _rescanPending;

    public ModelCatalog(string? modelsDirectory, IEnumerable<ProcessModel> builtIns, ILogger<ModelCatalog> logger)
    {
        _logger = logger;
        _builtIns = builtIns.ToFrozenDictionary(m => m.Id, StringComparer.Ordinal);
        _snapshot = new Snapshot(_builtIns, [.. _builtIns.Values.OrderBy(m => m.Id, StringComparer.Ordinal)]);
        _reloadTimer = new Timer(_ => ReloadPending());
        if (modelsDirectory is null)
        {
            return;
        }

        _directory = Path.TrimEndingDirectorySeparator(Path.GetFullPath(modelsDirectory));
        if (!Directory.Exists(_directory))
        {
            LogNoDirectory(_directory);
            return;
        }

        _watcher = new FileSystemWatcher(_directory, "*" + FileExtension)
        {
            NotifyFilter = NotifyFilters.LastWrite | NotifyFilters.FileName | NotifyFilters.Size,
        };
        _watcher.Changed += (_, e) => Schedule(e.FullPath);
        _watcher.Created += (_, e) => Schedule(e.FullPath);
        _watcher.Deleted += (_, e) => Schedule(e.FullPath);
        _watcher.Renamed += (_, e) => Schedule(e.OldFullPath, e.FullPath);
        _watcher.Error += (_, e) => ScheduleRescan(e.GetException());
        _watcher.EnableRaisingEvents = true;
        lock (_gate)
        {
            Rescan();
        }
    }

    /// <summary>Raised after a model file was processed (loaded, failed, removed or refused); tests await it.</summary>
    public event EventHandler<ModelFileEventArgs>? FileProcessed;

    /// <summary>The current models: built-ins, then file models, each sorted by id.</summary>
    public IReadOnlyCollection<ProcessModel> Models => _snapshot.Ordered;

    public bool TryGet(string id, [NotNullWhen(true)] out ProcessModel? model) => _snapshot.ById.TryGetValue(id, out model);

    /// <summary>
    /// On first start (the folder does not exist yet) creates it with a documented sample model,
    /// <c>reactor.model</c>. An existing folder is left alone, so a deleted sample stays deleted.
    /// </summary>
    public static void EnsureSample(string directory)
    {
        if (Directory.Exists(directory))
        {
            return;
        }

        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ModelSample.FileName), ModelSample.Text);
    }

    public void Dispose()
    {
        _watcher?.Dispose();
        _reloadTimer.Dispose();
    }

    private void Schedule(params string[] paths)
    {
        lock (_gate)
        {
            _pendingPaths.UnionWith(paths);
        }

        _reloadTimer.Change(s_debounce, Timeout.InfiniteTimeSpan);
    }

    private void ScheduleRescan(Exception exception)
    {
        LogWatcherError(exception, _directory);
        lock (_gate)
        {
            _rescanPending = true;
        }

        _reloadTimer.Change(s_debounce, Timeout.InfiniteTimeSpan);
    }

    private void ReloadPending()
    {
        var processed = new List<ModelFileEventArgs>();
        lock (_gate)
        {
            if (_rescanPending)
            {
                _rescanPending = false;
                _pendingPaths.Clear();
                processed.AddRange(Rescan());
            }
            else
            {
                foreach (string path in _pendingPaths)
                {
                    processed.Add(Process(path));
                }

                _pendingPaths.Clear();
                Publish();
            }
        }

        foreach (ModelFileEventArgs args in processed)
        {
            FileProcessed?.Invoke(this, args);
        }
    }

    /// <summary>Loads every file of the folder and forgets models whose file is gone. Called under the gate.</summary>
    private List<ModelFileEventArgs> Rescan()
    {
        var results = new List<ModelFileEventArgs>();
        var seen = new HashSet<string>(StringComparer.Ordinal);
        string[] paths;
        try
        {
            paths = Directory.GetFiles(_directory!, "*" + FileExtension);
        }
        catch (Exception ex) when (ex is IOException or UnauthorizedAccessException)
        {
            // The folder is gone or unreadable: keep what is loaded rather than drop every model.
            LogWatcherError(ex, _directory);
            return results;
        }

        foreach (string path in paths.Order(StringComparer.Ordinal))
        {
            seen.Add(Path.GetFileNameWithoutExtension(path));
            results.Add(Process(path));
        }

        foreach (string id in _fileModels.Keys.Where(id => !seen.Contains(id)).ToList())
        {
            results.Add(Process(Path.Combine(_directory!, id + FileExtension)));
        }

        Publish();
        return results;
    }

    /// <summary>Brings one file's model up to date. Called under the gate; never throws.</summary>
    private ModelFileEventArgs Process(string path)
    {
        string id = Path.GetFileNameWithoutExtension(path);
        if (!path.EndsWith(FileExtension, StringComparison.Ordinal) || !string.Equals(Path.GetDirectoryName(path), _directory, StringComparison.Ordinal))
        {
            return new ModelFileEventArgs(path, id, ModelFileOutcome.Ignored, null);
        }

        if (_builtIns.ContainsKey(id))
        {
            LogShadowing(path, id);
            return new ModelFileEventArgs(path, id, ModelFileOutcome.Refused, $"'{id}' is a built-in model id");
        }

        if (!File.Exists(path))
        {
            if (_fileModels.Remove(id))
            {
                LogRemoved(id, path);
            }

            return new ModelFileEventArgs(path, id, ModelFileOutcome.Removed, null);
        }

        try
        {
            FormulaModel model = FormulaModel.Load(path);
            _fileModels[id] = model;
            LogLoaded(id, path, model.Inputs.Count, model.Outputs.Count);
            return new ModelFileEventArgs(path, id, ModelFileOutcome.Loaded, null);
        }
        catch (Exception ex)
        {
            // Whatever a file holds must not end the watcher's timer thread, and with it the server.
            bool kept = _fileModels.ContainsKey(id);
            LogFailed(id, ex.Message, kept);
            return new ModelFileEventArgs(path, id, ModelFileOutcome.Failed, ex.Message);
        }
    }

    private void Publish()
    {
        var all = new Dictionary<string, ProcessModel>(_builtIns, StringComparer.Ordinal);
        foreach ((string id, FormulaModel model) in _fileModels)
        {
            all[id] = model;
        }

        ProcessModel[] ordered = [.. _builtIns.Values.OrderBy(m => m.Id, StringComparer.Ordinal), .. _fileModels.Values.OrderBy(m => m.Id, StringComparer.Ordinal)];
        _snapshot = new Snapshot(all.ToFrozenDictionary(StringComparer.Ordinal), ordered);
    }

    private sealed record Snapshot(FrozenDictionary<string, ProcessModel> ById, ProcessModel[] Ordered);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} loaded from {Path}: {InputCount} inputs, {OutputCount} CVs")]
    private partial void LogLoaded(string modelId, string path, int inputCount, int outputCount);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model {ModelId} not loaded: {Error} (previous version kept: {KeptPrevious})")]
    private partial void LogFailed(string modelId, string error, bool keptPrevious);

    [LoggerMessage(Level = LogLevel.Information, Message = "Model {ModelId} removed: {Path} is gone")]
    private partial void LogRemoved(string modelId, string path);

    [LoggerMessage(Level = LogLevel.Error, Message = "Model file {Path} ignored: {ModelId} is a built-in model and cannot be replaced")]
    private partial void LogShadowing(string path, string modelId);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Models folder {Directory} does not exist; only built-in models are available")]
    private partial void LogNoDirectory(string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watching models folder {Directory} failed; rescanning it")]
    private partial void LogWatcherError(Exception exception, string? directory);
}

/// <summary>What happened to a model file on (re)load.</summary>
public enum ModelFileOutcome
{
    Loaded,
    Failed,
    Removed,
    Refused,
    Ignored,
}

/// <summary>One processed model file: its path, id, outcome and, for failures and refusals, why.</summary>
public sealed class ModelFileEventArgs(string path, string id, ModelFileOutcome outcome, string? error) : EventArgs
{
    public string Path { get; } = path;

    public string Id { get; } = id;

    public ModelFileOutcome Outcome { get; } = outcome;

    public string? Error { get; } = error;
}
