using Rto.Optimization;

namespace Rto.Server.Optimization;

/// <summary>Where a session stands: <c>running</c> (waiting for or evaluating a candidate), <c>paused</c>, <c>completed</c> or <c>stopped</c>.</summary>
internal sealed record SessionStatus(SessionDefinition Definition, string State, int Evaluations, EvaluatedCandidate? Best);

/// <summary>What the operator console reads of a session, without taking part in its calls.</summary>
internal sealed partial class OptimizationSession
{
    /// <summary>
    /// Told after every recorded evaluation (with its record) and every pause and resume (with null),
    /// under the session's lock: it must be quick and must not call the session.
    /// </summary>
    public Action<OptimizationSession, EvaluationRecord?>? Changed { get; set; }

    /// <summary>The session's state, evaluation count and best point, as one consistent snapshot.</summary>
    public SessionStatus Status()
    {
        lock (_lock)
        {
            string state = _stopped ? "stopped" : IsCompleted ? "completed" : _paused ? "paused" : "running";
            return new SessionStatus(Definition, state, _optimizer.Evaluations, _optimizer.Best);
        }
    }

    /// <summary>
    /// The evaluations recorded in the session's file, read without changing it (the session may be
    /// writing); none for a cluster session, whose lines are in JetStream.
    /// </summary>
    public List<EvaluationRecord> ReadEvaluations() =>
        _file is SessionFile file ? [.. SessionFile.Read(file.Path).Records.OfType<EvaluationRecord>()] : [];
}
