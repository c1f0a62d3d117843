namespace Rto.Optimization;

/// <summary>
/// Feasibility-first ranking shared by the methods and <see cref="Optimizer.Best"/>: a feasible point
/// beats any infeasible one; two feasible points compare by objective; two infeasible ones by total violation.
/// </summary>
internal static class Feasibility
{
    /// <summary>
    /// Total limit violation, scaled per constraint by the width of its limits (or 1 when one-sided): 0 when
    /// every constraint is within its limits, +∞ for a failed evaluation or a missing (NaN) value of a limited constraint.
    /// </summary>
    public static double Violation(OptimizationProblem problem, in Evaluation evaluation)
    {
        if (!evaluation.Succeeded || double.IsNaN(evaluation.Objective))
        {
            return double.PositiveInfinity;
        }

        double total = 0;
        for (int i = 0; i < problem.Constraints.Count; i++)
        {
            Constraint cv = problem.Constraints[i];
            if (!cv.HasLower && !cv.HasUpper)
            {
                continue;
            }

            double value = i < evaluation.ConstraintValues.Length ? evaluation.ConstraintValues[i] : double.NaN;
            if (double.IsNaN(value))
            {
                return double.PositiveInfinity;
            }

            double scale = cv.HasLower && cv.HasUpper && cv.Upper > cv.Lower ? cv.Upper - cv.Lower : 1;
            if (cv.HasLower && value < cv.Lower)
            {
                total += (cv.Lower - value) / scale;
            }
            else if (cv.HasUpper && value > cv.Upper)
            {
                total += (value - cv.Upper) / scale;
            }
        }

        return total;
    }

    /// <summary>True when every limited constraint is within its limits and the evaluation succeeded.</summary>
    public static bool IsFeasible(OptimizationProblem problem, in Evaluation evaluation) => Violation(problem, evaluation) == 0;

    /// <summary>True when an evaluation with (<paramref name="objective"/>, <paramref name="violation"/>) ranks strictly better than the other one.</summary>
    public static bool IsBetter(bool maximize, double objective, double violation, double otherObjective, double otherViolation)
    {
        if (violation != otherViolation && (violation > 0 || otherViolation > 0))
        {
            return violation < otherViolation;
        }

        return maximize ? objective > otherObjective : objective < otherObjective;
    }
}
