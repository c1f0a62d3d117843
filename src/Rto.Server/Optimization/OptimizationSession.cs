using Rto.Server.Optimization.Models;
using Grpc.RtoApi;
using Rto.Server.Optimization.Optimizers;

namespace Rto.Server.Optimization;

/// <summary>The answer to one OptimizeIteration: the flag, the MVs (session order) and a message.</summary>
internal readonly record struct IterationReply(int Flag, double[] Mvs, string Message)
{
    public const int Candidate = 0;
    public const int Resumed = 1;
    public const int Completed = 3;
    public const int UnknownSession = -1;
}

/// <summary>
/// One optimization session: the optimizer, the candidate the caller is evaluating, the best point
/// so far and the paused/completed state. Calls on one session are serialized by its own lock;
/// different sessions never wait for each other. Every state change is appended to the session file
/// under that lock, so the file's order is the order the optimizer saw.
/// </summary>
internal sealed class OptimizationSession
{
    public const string CompletedMessage = "Optimization completed";
    public const string NoFeasibleMessage = "Optimization completed; no feasible point was found, these are the least-violating MVs";

    private readonly Lock _lock = new();
    private readonly IOptimizer _optimizer;
    private readonly SessionFile _file;
    private readonly TimeProvider _time;
    private readonly Dictionary<string, int> _cvIndex;
    private double[]? _outstanding;
    private int _evaluations;
    private double[]? _best;
    private double _bestObjective = double.NaN;
    private double _bestViolation = double.PositiveInfinity;
    private int _bestIteration;
    private bool _paused;
    private bool _stopped;
    private (string ModelId, ModelBinding Binding)? _binding;

    private OptimizationSession(SessionDefinition definition, IOptimizer optimizer, SessionFile file, TimeProvider time)
    {
        Definition = definition;
        _optimizer = optimizer;
        _file = file;
        _time = time;
        _cvIndex = new Dictionary<string, int>(definition.Problem.Cvs.Count, StringComparer.Ordinal);
        for (int i = 0; i < definition.Problem.Cvs.Count; i++)
        {
            _cvIndex[definition.Problem.Cvs[i].Id] = i;
        }
    }

    public SessionDefinition Definition { get; }

    public Guid Id => Definition.Id;

    public OptimizationProblem Problem => Definition.Problem;

    /// <summary>Evaluations counted so far (at most the budget).</summary>
    public int Evaluations
    {
        get
        {
            lock (_lock)
            {
                return _evaluations;
            }
        }
    }

    public static OptimizationSession Create(SessionDefinition definition, IOptimizer optimizer, SessionFile file, TimeProvider time) => new(definition, optimizer, file, time);

    /// <summary>
    /// Rebuilds a session from its file: replays every recorded evaluation through a fresh optimizer
    /// (same seed, so the same candidates), restoring the count, the best point and the pause state.
    /// <paramref name="mismatches"/> counts replayed candidates that differ from the recorded ones
    /// (the optimizer changed between versions); the recorded values are told in any case.
    /// </summary>
    public static OptimizationSession Restore(SessionDefinition definition, SessionFile file, IEnumerable<SessionRecord> records, TimeProvider time, out int mismatches)
    {
        if (!OptimizationMethods.TryCreate(definition.Method, definition.Problem, out IOptimizer? optimizer))
        {
            throw new FormatException($"unknown optimization method '{definition.Method}'");
        }

        var session = new OptimizationSession(definition, optimizer!, file, time);
        mismatches = 0;
        foreach (SessionRecord record in records)
        {
            switch (record)
            {
                case EvaluationRecord evaluation when !session.IsCompleted:
                    double[] replayed = session._optimizer.Ask();
                    if (!replayed.AsSpan().SequenceEqual(evaluation.Mvs))
                    {
                        mismatches++;
                    }

                    session.Apply(evaluation.Mvs, evaluation.Evaluation);
                    break;
                case PauseRecord:
                    session._paused = true;
                    break;
                case ResumeRecord:
                    session._paused = false;
                    break;
            }
        }

        return session;
    }

    private bool IsCompleted => _evaluations >= Problem.MaxEvaluations;

    /// <summary>One OptimizeIteration; <see langword="null"/> when the session was stopped meanwhile.</summary>
    public IterationReply? Iterate(OptimizeIterationRequest request)
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return null;
            }

            if (IsCompleted)
            {
                return Final();
            }

            bool resumed = _paused;
            if (resumed)
            {
                _paused = false;
                _file.Append(SessionFile.FormatEvent("resume", _time.GetUtcNow()));
            }

            // An evaluation with no candidate outstanding (values on the very first call) has
            // nothing to refer to and is ignored.
            if (request.ObjectiveFunctionValue is { } objective && _outstanding is { } candidate)
            {
                var evaluation = new Evaluation(objective.NumericValue, MatchCvs(request), objective.IsGood);
                Apply(candidate, evaluation);
                WriteEvaluation(candidate, evaluation);
                if (IsCompleted)
                {
                    return Final();
                }
            }

            _outstanding ??= _optimizer.Ask();
            return resumed
                ? new IterationReply(IterationReply.Resumed, _outstanding, "Resumed after pause")
                : new IterationReply(IterationReply.Candidate, _outstanding, "");
        }
    }

    /// <summary>Pause; <see langword="null"/> when the session was stopped meanwhile.</summary>
    public (bool IsPaused, string Message)? Pause()
    {
        lock (_lock)
        {
            if (_stopped)
            {
                return null;
            }

            if (IsCompleted)
            {
                return (false, "Optimization already completed; there is nothing to pause");
            }

            if (_paused)
            {
                return (true, "Session is already paused");
            }

            _paused = true;
            _file.Append(SessionFile.FormatEvent("pause", _time.GetUtcNow()));
            return (true, "Session paused; the next OptimizeIteration resumes it");
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
    public bool TryBind(Models.ProcessModel model, out ModelBinding? binding, out string error)
    {
        lock (_lock)
        {
            if (_binding is { } cached && cached.ModelId == model.Id)
            {
                binding = cached.Binding;
                error = "";
                return true;
            }

            if (!ModelBinding.TryCreate(model, [.. Problem.Mvs.Select(m => m.Id)], [.. Problem.Mvs.Select(m => m.Name)], [.. Problem.Cvs.Select(c => c.Id)], [.. Problem.Cvs.Select(c => c.Name)], out binding, out string? bindError))
            {
                error = bindError;
                return false;
            }

            error = "";

            _binding = (model.Id, binding!);
            return true;
        }
    }

    private IterationReply Final()
    {
        double[] mvs = _best ?? _outstanding ?? _optimizer.Ask();
        return new IterationReply(IterationReply.Completed, mvs, _bestViolation == 0 ? CompletedMessage : NoFeasibleMessage);
    }

    private double[] MatchCvs(OptimizeIterationRequest request)
    {
        var cvs = new double[Problem.Cvs.Count];
        Array.Fill(cvs, double.NaN);

        // CV values are matched by tagId; tags the session does not know are ignored.
        foreach (TagVal value in request.CvValues)
        {
            if (_cvIndex.TryGetValue(value.TagId, out int index))
            {
                cvs[index] = value.NumericValue;
            }
        }

        return cvs;
    }

    private void Apply(double[] candidate, Evaluation evaluation)
    {
        _optimizer.Tell(candidate, evaluation);
        _outstanding = null;
        _evaluations++;
        double violation = Feasibility.Violation(Problem, evaluation);
        if (_best is null || Feasibility.IsBetter(Problem.Maximize, evaluation.Objective, violation, _bestObjective, _bestViolation))
        {
            _best = candidate;
            _bestObjective = evaluation.Objective;
            _bestViolation = violation;
            _bestIteration = _evaluations;
        }
    }

    private void WriteEvaluation(double[] candidate, Evaluation evaluation)
    {
        bool feasible = Feasibility.IsFeasible(Problem, evaluation);
        _file.Append(SessionFile.FormatEvaluation(new EvaluationRecord(_evaluations, candidate, evaluation), feasible, _time.GetUtcNow(), _bestIteration, _bestObjective));
    }
}
