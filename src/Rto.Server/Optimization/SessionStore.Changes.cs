namespace Rto.Server.Optimization;

/// <summary>A change of one session: started, stopped, paused, resumed, or an evaluation recorded (with its record).</summary>
internal readonly record struct SessionChange(Guid Id, EvaluationRecord? Evaluation);

/// <summary>What the operator console reads of the store: the sessions and a notification of every change.</summary>
internal sealed partial class SessionStore
{
    private long _version;

    /// <summary>
    /// Raised for every change of any session, on the thread that made it (a session's evaluations
    /// under its lock): handlers must be quick and must not call back into the session.
    /// </summary>
    public event Action<SessionChange>? Changed;

    /// <summary>Changes with every session change, so a reader can tell cheaply whether anything happened.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>The live sessions, as of now (enumerating the dictionary takes none of its locks).</summary>
    public List<OptimizationSession> Sessions => [.. _sessions.Select(entry => entry.Value)];

    private void Watch(OptimizationSession session)
    {
        session.Changed = (changed, record) => Notify(changed.Id, record);
        Notify(session.Id, null);
    }

    private void Notify(Guid id, EvaluationRecord? record)
    {
        Interlocked.Increment(ref _version);
        Changed?.Invoke(new SessionChange(id, record));
    }
}
