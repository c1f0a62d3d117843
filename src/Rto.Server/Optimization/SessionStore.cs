using System.Collections.Concurrent;
using Microsoft.Extensions.Options;
using Rto.Optimization;

namespace Rto.Server.Optimization;

/// <summary>
/// Every live session by id. Lookups are lock-free; each session serializes its own calls, so
/// sessions never wait for each other. Sessions are restored from their files when the store opens.
/// </summary>
internal sealed partial class SessionStore
{
    private readonly ConcurrentDictionary<Guid, OptimizationSession> _sessions = new();
    private readonly OptimizationOptions _options;
    private readonly TimeProvider _time;
    private readonly ILogger<SessionStore> _logger;
    private readonly bool _clustered;
    private int _count;

    /// <param name="clustered">
    /// In a cluster the store holds the sessions this node owns now, journaled to JetStream by
    /// <see cref="ClusterSessions"/>: no session files are read or written.
    /// </param>
    public SessionStore(IOptions<OptimizationOptions> options, TimeProvider time, ILogger<SessionStore> logger, bool clustered = false)
    {
        _options = options.Value;
        _time = time;
        _logger = logger;
        _clustered = clustered;
        if (!clustered)
        {
            Restore();
        }
    }

    public int Count => Volatile.Read(ref _count);

    public string Directory => _options.SessionsDirectory;

    /// <summary>Validates and creates a session (its file written and fsynced); false with the reason otherwise.</summary>
    public bool TryStart(SessionRequest request, out OptimizationSession? session, out string error)
    {
        session = null;
        if (Interlocked.Increment(ref _count) > _options.MaxSessions)
        {
            Interlocked.Decrement(ref _count);
            error = $"the server already runs its maximum of {_options.MaxSessions} sessions (Optimization:MaxSessions); stop finished sessions first";
            return false;
        }

        try
        {
            var id = Guid.NewGuid();
            if (!SessionDefinition.TryCreate(request, id, _time.GetUtcNow(), _options, out SessionDefinition? definition, out Optimizer? optimizer, out error))
            {
                Interlocked.Decrement(ref _count);
                return false;
            }

            ISessionJournal journal = _clustered ? new PendingJournal() : SessionFile.Create(_options.SessionsDirectory, definition!);
            session = OptimizationSession.Create(definition!, optimizer!, journal, _time);
            _sessions[id] = session;
            Watch(session);
            LogStarted(id, definition!.Problem.Variables.Count, definition.Problem.Constraints.Count, definition.Method, definition.Problem.MaxEvaluations, definition.Seed);
            return true;
        }
        catch
        {
            Interlocked.Decrement(ref _count);
            throw;
        }
    }

    public bool TryGet(string id, out OptimizationSession? session)
    {
        session = null;
        return Guid.TryParse(id, out Guid guid) && _sessions.TryGetValue(guid, out session);
    }

    /// <summary>Removes the session and deletes its file; false for an unknown id.</summary>
    public bool TryStop(string id)
    {
        if (!Guid.TryParse(id, out Guid guid) || !_sessions.TryRemove(guid, out OptimizationSession? session))
        {
            return false;
        }

        Interlocked.Decrement(ref _count);
        session.Stop();
        Notify(guid, null);
        LogStopped(guid, session.Evaluations);
        return true;
    }

    /// <summary>Holds a session this node took over (cluster): it counts like a started one.</summary>
    public void Adopt(OptimizationSession session)
    {
        if (_sessions.TryAdd(session.Id, session))
        {
            Interlocked.Increment(ref _count);
            Watch(session);
        }
    }

    /// <summary>Lets go of a session without deleting anything (cluster: another node owns it now, or its state must be read again).</summary>
    public void Forget(Guid id)
    {
        if (_sessions.TryRemove(id, out OptimizationSession? session))
        {
            Interlocked.Decrement(ref _count);
            session.Stop();
            Notify(id, null);
        }
    }

    private void Restore()
    {
        if (!System.IO.Directory.Exists(_options.SessionsDirectory))
        {
            return;
        }

        // Each session replays its evaluations through a fresh optimizer, which costs the optimizer's
        // CPU per evaluation again; sessions are independent, so the files are restored in parallel.
        long started = System.Diagnostics.Stopwatch.GetTimestamp();
        int restored = 0, replayed = 0;
        Parallel.ForEach(System.IO.Directory.EnumerateFiles(_options.SessionsDirectory, "*" + SessionFile.Extension), path =>
        {
            try
            {
                (SessionFile file, SessionDefinition definition, List<SessionRecord> records, string? dropped) = SessionFile.Open(path);
                if (dropped is not null)
                {
                    LogDroppedTail(path, dropped.Length);
                }

                OptimizationSession session = OptimizationSession.Restore(definition, file, records, _time, out int mismatches);
                if (mismatches > 0)
                {
                    LogReplayMismatch(definition.Id, mismatches, definition.Method);
                }

                if (_sessions.TryAdd(definition.Id, session))
                {
                    Watch(session);
                    Interlocked.Increment(ref _count);
                    Interlocked.Increment(ref restored);
                    Interlocked.Add(ref replayed, session.Evaluations);
                }
            }
            catch (FormatException ex)
            {
                string aside = path + ".bad";
                File.Move(path, aside, overwrite: true);
                LogBadFile(ex, path, aside, ex.Message);
            }
        });

        if (restored > 0)
        {
            LogRestored(restored, replayed, System.Diagnostics.Stopwatch.GetElapsedTime(started).TotalSeconds, Path.GetFullPath(_options.SessionsDirectory));
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "RTO session {SessionId} started: {MvCount} MVs, {CvCount} CVs, method '{Method}', {MaxIterations} iterations, seed {Seed}")]
    private partial void LogStarted(Guid sessionId, int mvCount, int cvCount, string method, int maxIterations, int seed);

    [LoggerMessage(Level = LogLevel.Information, Message = "RTO session {SessionId} stopped after {Evaluations} evaluations")]
    private partial void LogStopped(Guid sessionId, int evaluations);

    [LoggerMessage(Level = LogLevel.Information, Message = "Restored {Count} RTO sessions ({Evaluations} evaluations replayed) in {Seconds:F2} s from {Directory}")]
    private partial void LogRestored(int count, int evaluations, double seconds, string directory);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RTO session file {Path}: ignored an incomplete or unreadable tail of {Characters} characters (a write cut short)")]
    private partial void LogDroppedTail(string path, int characters);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RTO session {SessionId}: {Mismatches} replayed candidates differ from the recorded ones (method '{Method}' changed?); continuing with the recorded values")]
    private partial void LogReplayMismatch(Guid sessionId, int mismatches, string method);

    [LoggerMessage(Level = LogLevel.Error, Message = "RTO session file {Path} is damaged ({Reason}); moved aside to {Aside}")]
    private partial void LogBadFile(Exception exception, string path, string aside, string reason);
}
