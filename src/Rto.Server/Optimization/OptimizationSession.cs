using Rto.Optimization;
using Rto.Optimization.Models;

namespace Rto.Server.Optimization;

/// <summary>
/// One optimization session: the optimizer, the candidate the caller is evaluating, the best point
/// so far and the paused/completed state. Calls on one session are serialized by its own lock;
/// different sessions never wait for each other. Every state change is appended to the session file
/// under that lock, so the file's order is the order the optimizer saw.
/// </summary>
internal sealed partial class OptimizationSession
{
    public const string CompletedMessage = "Optimization completed";
    public const string ResumedMessage = "Session resumed after pause; evaluate these MVs";
    public const string NoFeasibleMessage = "Optimization completed; no feasible point was found, these are the least-violating MVs";

    private readonly Lock _lock = new();
    private Optimizer _optimizer;
    private readonly ISessionJournal _file;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, int> _cvIndex;
    private double[]? _outstanding;
    private bool _paused;
    private bool _stopped;
    private bool _broken;
    private (string ModelId, ModelBinding Binding)? _binding;

    private OptimizationSession(SessionDefinition definition, Optimizer optimizer, ISessionJournal file, TimeProvider time)
    {
        Definition = definition;
        _optimizer = optimizer;
        _file = file;
        _time = time;
        _cvIndex = new Dictionary<string, int>(definition.Problem.Constraints.Count, StringComparer.Ordinal);
        for (int i = 0; i < definition.Problem.Constraints.Count; i++)
        {
            _cvIndex[definition.Problem.Constraints[i].Id] = i;
        }
    }

    public SessionDefinition Definition { get; }

    /// <summary>Where the session writes its changes (its file, or in a cluster the lines waiting for JetStream).</summary>
    public ISessionJournal Journal => _file;

    public Guid Id => Definition.Id;

    public OptimizationProblem Problem => Definition.Problem;

    /// <summary>Evaluations counted so far (at most the budget).</summary>
    public int Evaluations
    {
        get
        {
            lock (_lock)
            {
                return _optimizer.Evaluations;
            }
        }
    }

    public static OptimizationSession Create(SessionDefinition definition, Optimizer optimizer, ISessionJournal file, TimeProvider time) => new(definition, optimizer, file, time);

    /// <summary>
    /// Rebuilds a session from its file: replays every recorded evaluation through a fresh optimizer
    /// (same seed, so the same candidates), restoring the count, the best point and the pause state.
    /// <paramref name="mismatches"/> counts replayed candidates that differ from the recorded ones
    /// (the optimizer changed between versions); the recorded values are told in any case.
    /// </summary>
    public static OptimizationSession Restore(SessionDefinition definition, ISessionJournal file, IEnumerable<SessionRecord> records, TimeProvider time, out int mismatches, bool askOutstanding = false)
    {
        var session = new OptimizationSession(definition, NewOptimizer(definition), file, time);
        mismatches = session.Replay(records);

        // In a cluster, the node that had the session had asked for the next candidate (it answered
        // it); asking now lets an evaluation of it reported here count, as it would have there.
        if (askOutstanding && !session.IsCompleted)
        {
            session._outstanding = session._optimizer.Ask();
        }

        return session;
    }

    private static Optimizer NewOptimizer(SessionDefinition definition) =>
        Optimizer.TryCreate(definition.Method, definition.Problem, definition.Seed, out Optimizer? optimizer)
            ? optimizer
            : throw new FormatException($"unknown optimization method '{definition.Method}'");

    /// <summary>Tells the recorded evaluations to the (fresh) optimizer; returns how many replayed candidates differ from the recorded ones.</summary>
    private int Replay(IEnumerable<SessionRecord> records)
    {
        int mismatches = 0;
        foreach (SessionRecord record in records)
        {
            switch (record)
            {
                case EvaluationRecord evaluation when !IsCompleted:
                    double[] replayed = _optimizer.Ask();
                    if (!replayed.AsSpan().SequenceEqual(evaluation.Mvs))
                    {
                        mismatches++;
                    }

                    Apply(evaluation.Mvs, evaluation.Evaluation);
                    break;
                case PauseRecord:
                    _paused = true;
                    break;
                case ResumeRecord:
                    _paused = false;
                    break;
            }
        }

        return mismatches;
    }

    private bool IsCompleted => _optimizer.IsBudgetSpent;

    /// <summary>
    /// The position of the CV with this tag id in the session's order; false for a tag the session
    /// does not know (callers often report more tags than a session uses: they are ignored).
    /// </summary>
    public bool TryGetCvIndex(string tagId, out int index) => _cvIndex.TryGetValue(tagId, out index);

    /// <summary>
    /// One OptimizeIteration: records <paramref name="report"/> (the evaluation of the outstanding
    /// candidate, CVs in session order; <see langword="null"/> to get the first or the same candidate)
    /// and answers the next candidate or the final answer; <see langword="null"/> when the session was
    /// stopped meanwhile.
    /// </summary>
    /// <exception cref="EvaluationNotRecordedException">The optimizer could not take the evaluation or the file could not record it; the session is as before the call.</exception>
    /// <exception cref="IOException">The session file cannot be read to bring the session back after such a failure.</exception>
    public IterationResult? Iterate(Evaluation? report)
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return null;
            }

            if (_broken)
            {
                Rebuild();
            }

            if (IsCompleted)
            {
                return Final();
            }

            bool resumed = _paused;
            if (resumed)
            {
                _file.Append(SessionFile.FormatEvent("resume", _time.GetUtcNow()));
                _paused = false;
                Changed?.Invoke(this, null);
            }

            // An evaluation with no candidate outstanding (values on the very first call) has
            // nothing to refer to and is ignored.
            if (report is { } evaluation && _outstanding is { } candidate)
            {
                Accept(candidate, evaluation);
                if (IsCompleted)
                {
                    return Final();
                }
            }

            _outstanding ??= _optimizer.Ask();
            return resumed
                ? new IterationResult(IterationState.Resumed, _outstanding, ResumedMessage)
                : new IterationResult(IterationState.Candidate, _outstanding, "");
        }
    }

    /// <summary>
    /// Tells the optimizer the evaluation, asks for the next candidate and only then records the
    /// evaluation: one the session did not accept is never written (the file would fail the session
    /// again at every restart), and one the file did not take is not kept in memory either. After a
    /// failure the optimizer is rebuilt from the file, now or, when the file cannot be read, at the
    /// next call, so the session is exactly as before this call.
    /// </summary>
    private void Accept(double[] candidate, Evaluation evaluation)
    {
        bool writing = false;
        try
        {
            Apply(candidate, evaluation);
            if (!IsCompleted)
            {
                _outstanding = _optimizer.Ask();
            }

            writing = true;
            WriteEvaluation(candidate, evaluation);
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            bool fileFailed = writing && ex is IOException or UnauthorizedAccessException;
            _broken = true;
            _outstanding = candidate;
            try
            {
                Rebuild();
            }
            catch (Exception again) when (again is IOException or UnauthorizedAccessException)
            {
                // Still broken: the next call rebuilds the session from its file.
            }

            throw new EvaluationNotRecordedException(
                fileFailed
                    ? $"the session file could not record this evaluation ({ex.Message}); it was not recorded and the session is unchanged: report it again"
                    : $"the optimizer could not take this evaluation ({ex.Message}); it was not recorded and the session is unchanged (the same candidate is outstanding)",
                retryable: fileFailed,
                ex);
        }
    }

    /// <summary>A fresh optimizer told every evaluation the file records: the session as its file says.</summary>
    private void Rebuild()
    {
        List<SessionRecord> records = _file.ReadRecords();
        _optimizer = NewOptimizer(Definition);
        _outstanding = null;
        Replay(records);
        _broken = false;
        if (!IsCompleted)
        {
            _outstanding = _optimizer.Ask();
        }
    }

    /// <summary>Pause; <see langword="null"/> when the session was stopped meanwhile.</summary>
    public PauseResult? Pause()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return null;
            }

            if (IsCompleted)
            {
                return new PauseResult(false, "Optimization already completed; there is nothing to pause");
            }

            if (_paused)
            {
                return new PauseResult(true, "Session is already paused");
            }

            _file.Append(SessionFile.FormatEvent("pause", _time.GetUtcNow()));
            _paused = true;
            Changed?.Invoke(this, null);
            return new PauseResult(true, "Session paused; the next OptimizeIteration resumes it");
        }
    }

    /// <summary>Marks the session gone (calls already holding it answer "unknown session") and deletes its file.</summary>
    public void Stop()
    {
        lock (_lock)
        {
            _stopped = true;
            _file.Delete();
        }
    }

    /// <summary>The session's model bound to its MVs and CVs, cached for the last model id asked for.</summary>
    public bool TryBind(ProcessModel model, out ModelBinding? binding, out string error)
    {
        lock (_lock)
        {
            if (_binding is { } cached && cached.ModelId == model.Id)
            {
                binding = cached.Binding;
                error = "";
                return true;
            }

            if (!ModelBinding.TryCreate(model, Problem, out binding, out string? bindError))
            {
                error = bindError;
                return false;
            }

            error = "";

            _binding = (model.Id, binding!);
            return true;
        }
    }

    private IterationResult Final()
    {
        // The optimizer's best is feasibility first, so the message only needs to know whether it is feasible.
        EvaluatedCandidate? best = _optimizer.Best;
        IReadOnlyList<double> mvs = best?.Candidate ?? _outstanding ?? _optimizer.Ask();
        return new IterationResult(IterationState.Completed, mvs, best is { IsFeasible: true } ? CompletedMessage : NoFeasibleMessage);
    }

    private void Apply(double[] candidate, Evaluation evaluation)
    {
        _outstanding = null;
        _optimizer.Tell(candidate, evaluation);
    }

    private void WriteEvaluation(double[] candidate, Evaluation evaluation)
    {
        bool feasible = Problem.IsFeasible(evaluation);
        EvaluatedCandidate best = _optimizer.Best!;
        var record = new EvaluationRecord(_optimizer.Evaluations, candidate, evaluation);
        _file.Append(SessionFile.FormatEvaluation(record, feasible, _time.GetUtcNow(), best.Number, best.Objective));
        Changed?.Invoke(this, record);
    }
}

/// <summary>A reported evaluation the session did not record (the optimizer could not take it, or the file could not record it); the session is as before the call.</summary>
internal sealed class EvaluationNotRecordedException(string message, bool retryable, Exception inner) : Exception(message, inner)
{
    /// <summary>True when the same report may succeed later (the file failed, not the evaluation).</summary>
    public bool Retryable { get; } = retryable;
}
