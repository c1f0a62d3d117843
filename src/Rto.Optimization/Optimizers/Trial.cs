namespace Rto.Optimization.Optimizers;

/// <summary>
/// One evaluated candidate as the optimizers see it: its unit-box point, its objective in the
/// minimizing sense (+∞ when the evaluation failed), its total constraint violation and its constraint values.
/// </summary>
internal sealed record Trial(double[] Unit, double[] Candidate, double Score, double Violation, double[] Cvs)
{
    public bool IsFeasible => Violation == 0;

    /// <summary>Feasibility first, then objective (see <see cref="Feasibility.IsBetter"/>).</summary>
    public bool IsBetterThan(Trial other) => Feasibility.IsBetter(false, Score, Violation, other.Score, other.Violation);

    /// <summary>The trial of a told evaluation; keeps <paramref name="candidate"/> (a copy owned by the optimizer).</summary>
    public static Trial From(OptimizationProblem problem, SearchSpace space, double[] candidate, in Evaluation evaluation)
    {
        double violation = Feasibility.Violation(problem, evaluation);
        double score = !evaluation.Succeeded || !double.IsFinite(evaluation.Objective) ? double.PositiveInfinity
            : problem.Maximize ? -evaluation.Objective : evaluation.Objective;
        return new Trial(space.ToUnit(candidate), candidate, score, violation, evaluation.ConstraintValues ?? []);
    }
}
