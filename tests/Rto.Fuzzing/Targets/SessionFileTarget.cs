using System.Text;
using CsCheck;
using Rto.Optimization;
using Rto.Server.Optimization;

namespace Rto.Fuzzing.Targets;

/// <summary>A session file's bytes, and the session written into them when nothing was mutated.</summary>
/// <param name="Bytes">The file.</param>
/// <param name="Header">The header the writer wrote, when unmutated.</param>
/// <param name="Records">The records the writer wrote, when unmutated.</param>
internal sealed record SessionInput(byte[] Bytes, string? Header, SessionRecord[]? Records)
{
    /// <inheritdoc/>
    public override string ToString() => FuzzGen.Show(Bytes);
}

/// <summary>
/// The optimization session file (<see cref="SessionFile"/>, the server's loader). Throws nothing
/// but <see cref="FormatException"/> for a damaged header; the bytes it keeps (where a restart
/// cuts the file back to) end a line and read back as the same session with nothing dropped; a
/// session written by <see cref="SessionFile.FormatHeader"/> and the record formatters reads back
/// as itself, and so does any session it reads, written again.
/// </summary>
internal sealed class SessionFileTarget : FuzzTarget<SessionInput>
{
    private static readonly string[] s_tokens = ["mv\t", "cv\t", "---\n", "evaluation\t", "pause\t", "resume\t", "mv=", "cv=", "objective=", "ok", "failed", "best=", "no limit", "Numeric", "Integer", "Bool", "id: ", "seed: ", "maximize: ", "true", "%25", "%0A", ";", "1e30", "-1e31"];

    private static readonly Gen<string> s_name = Gen.OneOf("a", "x1", "%", "\t", "\n", "\r", " ", "é", "😀", ": ", "#", "---", "%41").Array[1, 5].Select(parts => string.Concat(parts));

    private static readonly Gen<DecisionVariable> s_mv = Gen.Select(s_name, s_name, Gen.Int[0, 2], Gen.Double[-1e6, 1e6], Gen.Double[0, 1e6], (id, name, type, lower, width) => (VariableType)type switch
    {
        VariableType.Bool => DecisionVariable.Bool(id) with { Name = name },
        VariableType.Integer => DecisionVariable.Integer(id, Math.Floor(lower), Math.Floor(lower) + Math.Floor(width)) with { Name = name },
        _ => DecisionVariable.Continuous(id, lower, lower + width) with { Name = name },
    });

    private static readonly Gen<double> s_limit = Gen.Frequency((3, Gen.Double[-1e6, 1e6]), (1, Gen.OneOf(double.NegativeInfinity, double.PositiveInfinity, 1e30, -1e30)));

    private static readonly Gen<Constraint> s_cv = Gen.Select(s_name, s_name, s_limit, s_limit, (id, name, a, b) => Constraint.Create(id, Math.Min(a, b), Math.Max(a, b)) with { Name = name });

    private static readonly Gen<SessionDefinition> s_definition = Gen.Select(
        Gen.Guid,
        Gen.Long[0, DateTime.MaxValue.Ticks],
        s_name,
        s_name,
        Gen.Int,
        Gen.Select(s_mv.Array[1, 4], s_cv.Array[0, 3], Gen.Bool, Gen.Int[1, int.MaxValue], (mvs, cvs, maximize, budget) => new OptimizationProblem(mvs, cvs, maximize, budget)),
        (id, ticks, method, model, seed, problem) => new SessionDefinition(id, new DateTimeOffset(ticks, TimeSpan.Zero), method, model, seed, problem));

    private static readonly Gen<(byte[] Bytes, string Header, SessionRecord[] Records)> s_written = s_definition.SelectMany(definition =>
    {
        int mvs = definition.Problem.Variables.Count, cvs = definition.Problem.Constraints.Count;
        Gen<SessionRecord> evaluation = Gen.Select(Gen.Int[0, int.MaxValue], FuzzGen.FiniteDouble.Array[mvs], Gen.Double.Array[cvs], Gen.Double, Gen.Bool, (iteration, x, c, objective, ok) =>
            (SessionRecord)new EvaluationRecord(iteration, x, new Evaluation(objective, c, ok)));
        Gen<SessionRecord> record = Gen.Frequency((6, evaluation), (1, Gen.Const<SessionRecord>(new PauseRecord())), (1, Gen.Const<SessionRecord>(new ResumeRecord())));
        return record.Array[0, 5].Select(records =>
        {
            string header = SessionFile.FormatHeader(definition);
            return (Encoding.UTF8.GetBytes(header + Format(records)), header, records);
        });
    });

    /// <inheritdoc/>
    public override string Name => "session-file";

    /// <inheritdoc/>
    public override string Description => "optimization session files through SessionFile.Parse: only FormatException, the kept bytes end a line and reopen the same, writer output and every parsed session round-trip";

    /// <inheritdoc/>
    protected override Gen<SessionInput> Inputs { get; } = Gen.Frequency(
        (2, s_written.Select(w => new SessionInput(w.Bytes, w.Header, w.Records))),
        (5, FuzzGen.Mutated(s_written.Select(w => w.Bytes), s_tokens).Select(bytes => new SessionInput(bytes, null, null))),
        (1, FuzzGen.Junk(s_tokens, 80).Select(bytes => new SessionInput(bytes, null, null))));

    /// <inheritdoc/>
    public override void Check(SessionInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        (SessionDefinition definition, List<SessionRecord> records, string? dropped, long good) parsed;
        try
        {
            parsed = SessionFile.Parse(input.Bytes);
        }
        catch (FormatException)
        {
            if (input.Header is not null)
            {
                throw;
            }

            return;
        }

        // A restart cuts the file back to the good bytes and appends after them.
        if (parsed.good > input.Bytes.Length || parsed.good == 0 || input.Bytes[(int)parsed.good - 1] != (byte)'\n')
        {
            throw new FuzzPropertyException($"the kept bytes ({parsed.good} of {input.Bytes.Length}) do not end a line");
        }

        var kept = SessionFile.Parse(input.Bytes[..(int)parsed.good]);
        if (kept.DroppedTail is not null || kept.GoodBytes != parsed.good || !Same(kept.Definition, kept.Records, parsed.definition, parsed.records))
        {
            throw new FuzzPropertyException($"the file cut back to its {parsed.good} good bytes reads differently (dropped {kept.DroppedTail})");
        }

        // Written again, what was read must read back as itself.
        string header = SessionFile.FormatHeader(parsed.definition);
        var again = SessionFile.Parse(Encoding.UTF8.GetBytes(header + Format(parsed.records)));
        if (again.DroppedTail is not null || !Same(again.Definition, again.Records, parsed.definition, parsed.records))
        {
            throw new FuzzPropertyException($"the session read and written again does not read back as itself:\n{header}");
        }

        if (input.Header is not null && (header != input.Header || parsed.dropped is not null || !SameRecords(parsed.records, input.Records!)))
        {
            throw new FuzzPropertyException($"the writer's session reads back differently:\n{input.Header}\nas\n{header}");
        }
    }

    private static string Format(IEnumerable<SessionRecord> records)
    {
        var text = new StringBuilder();
        DateTimeOffset at = new(2026, 11, 27, 7, 0, 0, TimeSpan.Zero);
        foreach (SessionRecord record in records)
        {
            text.Append(record switch
            {
                EvaluationRecord e => SessionFile.FormatEvaluation(e, feasible: true, at, e.Iteration, e.Evaluation.Objective),
                PauseRecord => SessionFile.FormatEvent("pause", at),
                _ => SessionFile.FormatEvent("resume", at),
            });
        }

        return text.ToString();
    }

    private static bool Same(SessionDefinition a, List<SessionRecord> aRecords, SessionDefinition b, List<SessionRecord> bRecords) =>
        SessionFile.FormatHeader(a) == SessionFile.FormatHeader(b) && SameRecords(aRecords, bRecords);

    private static bool SameRecords(IReadOnlyList<SessionRecord> a, IReadOnlyList<SessionRecord> b) =>
        a.Count == b.Count && a.Zip(b).All(pair => (pair.First, pair.Second) switch
        {
            (EvaluationRecord x, EvaluationRecord y) => x.Iteration == y.Iteration && x.Mvs.SequenceEqual(y.Mvs)
                && x.Evaluation.Objective.Equals(y.Evaluation.Objective) && x.Evaluation.Succeeded == y.Evaluation.Succeeded
                && x.Evaluation.ConstraintValues.SequenceEqual(y.Evaluation.ConstraintValues),
            (PauseRecord, PauseRecord) or (ResumeRecord, ResumeRecord) => true,
            _ => false,
        });
}
