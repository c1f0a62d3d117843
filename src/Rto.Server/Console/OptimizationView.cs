using System.Collections.Concurrent;
using Rto.Optimization;
using Rto.Server.Optimization;

namespace Rto.Server.Console;

/// <summary>
/// The optimization pages: the table of sessions, and one session's objective, best so far and CVs
/// against evaluation number with the MVs of its best point. A session's history comes from its file
/// (so it survives restarts and costs no memory while nobody watches); what it records while a page
/// is open arrives through <see cref="SessionStore.Changed"/>.
/// </summary>
internal sealed class OptimizationView(SessionStore store)
{
    /// <summary>The most sessions listed; the table says how many there are in all.</summary>
    public const int MaxListed = 500;

    /// <summary>The most evaluations a session page is sent at first (the newest); the best so far counts them all.</summary>
    public const int MaxHistory = 20_000;

    public LiveView ListStream()
    {
        long seen = -1;
        return new LiveView(() =>
        {
            long version = store.Version;
            if (version == seen)
            {
                return null;
            }

            seen = version;
            return List();
        });
    }

    public object List()
    {
        List<SessionStatus> sessions = [.. store.Sessions.Select(s => s.Status()).OrderByDescending(s => s.Definition.Created)];
        return new
        {
            total = sessions.Count,
            sessions = sessions.Take(MaxListed).Select(s => new
            {
                id = s.Definition.Id,
                created = s.Definition.Created,
                method = s.Definition.Method.Length == 0 ? "(default)" : s.Definition.Method,
                model = s.Definition.ModelId,
                maximize = s.Definition.Problem.Maximize,
                state = s.State,
                evaluations = s.Evaluations,
                maxEvaluations = s.Definition.Problem.MaxEvaluations,
                mvs = s.Definition.Problem.Variables.Count,
                cvs = s.Definition.Problem.Constraints.Count,
                best = s.Best is { } best ? new { number = best.Number, objective = best.Objective, feasible = best.IsFeasible } : null,
            }),
        };
    }

    /// <summary>One session's stream, or null for an unknown id. Its first update is the whole history.</summary>
    public LiveView? SessionStream(string id)
    {
        if (!store.TryGet(id, out OptimizationSession? session))
        {
            return null;
        }

        // Subscribe before reading the file: an evaluation recorded in between is in one or both, never in neither.
        var arrived = new ConcurrentQueue<EvaluationRecord>();
        Action<SessionChange> onChange = change =>
        {
            if (change.Id == session!.Id && change.Evaluation is { } record)
            {
                arrived.Enqueue(record);
            }
        };
        store.Changed += onChange;
        var history = new SessionHistory(session!.Problem);
        bool first = true;
        long seen = -1;
        return new LiveView(() =>
        {
            long version = store.Version;
            if (!first && version == seen && arrived.IsEmpty)
            {
                return null;
            }

            seen = version;
            List<object> added = [];
            if (first)
            {
                List<EvaluationRecord> recorded = ReadFile(session);
                history.AddRange(recorded, added, keepFrom: recorded.Count - MaxHistory);
            }

            var batch = new List<EvaluationRecord>();
            while (arrived.TryDequeue(out EvaluationRecord? record))
            {
                batch.Add(record);
            }

            history.AddRange(batch, added, keepFrom: 0);
            SessionStatus status = session.Status();
            object update = new
            {
                reset = first,
                state = status.State,
                evaluations = status.Evaluations,
                added,
                best = status.Best is { } best ? new
                {
                    number = best.Number,
                    objective = best.Objective,
                    feasible = best.IsFeasible,
                    mvs = best.Candidate,
                    cvs = best.Evaluation.ConstraintValues,
                } : null,
                definition = first ? Describe(status.Definition) : null,
            };
            first = false;
            return update;
        }, Closed: () => store.Changed -= onChange);
    }

    private static List<EvaluationRecord> ReadFile(OptimizationSession session)
    {
        try
        {
            return session.ReadEvaluations();
        }
        catch (Exception ex) when (ex is IOException or FormatException)
        {
            // Stopped meanwhile (file deleted) or being rewritten: the live evaluations still come.
            return [];
        }
    }

    private static object Describe(SessionDefinition definition) => new
    {
        id = definition.Id,
        created = definition.Created,
        method = definition.Method.Length == 0 ? "(default)" : definition.Method,
        model = definition.ModelId,
        seed = definition.Seed,
        maximize = definition.Problem.Maximize,
        maxEvaluations = definition.Problem.MaxEvaluations,
        mvs = definition.Problem.Variables.Select(v => new { id = v.Id, name = v.Name, type = SessionDefinition.FormatType(v.Type), lower = v.Lower, upper = v.Upper }),
        cvs = definition.Problem.Constraints.Select(c => new { id = c.Id, name = c.Name, lower = c.HasLower ? c.Lower : (double?)null, upper = c.HasUpper ? c.Upper : (double?)null }),
    };

    /// <summary>The running best of a session's evaluations, feasibility first as the optimizer ranks them.</summary>
    private sealed class SessionHistory(OptimizationProblem problem)
    {
        private int _last;
        private double _bestObjective = double.NaN;
        private double _bestViolation = double.PositiveInfinity;
        private bool _any;

        public void AddRange(List<EvaluationRecord> records, List<object> added, int keepFrom)
        {
            for (int i = 0; i < records.Count; i++)
            {
                EvaluationRecord record = records[i];
                if (record.Iteration <= _last)
                {
                    continue;
                }

                _last = record.Iteration;
                double violation = problem.Violation(record.Evaluation);
                double objective = record.Evaluation.Objective;
                if (!_any || IsBetter(objective, violation))
                {
                    _any = true;
                    _bestObjective = objective;
                    _bestViolation = violation;
                }

                if (i >= keepFrom)
                {
                    added.Add(new
                    {
                        n = record.Iteration,
                        objective,
                        best = _bestObjective,
                        feasible = violation == 0,
                        ok = record.Evaluation.Succeeded,
                        cvs = record.Evaluation.ConstraintValues,
                    });
                }
            }
        }

        private bool IsBetter(double objective, double violation)
        {
            if (violation != _bestViolation && (violation > 0 || _bestViolation > 0))
            {
                return violation < _bestViolation;
            }

            return problem.Maximize ? objective > _bestObjective : objective < _bestObjective;
        }
    }
}
