namespace Rto.Optimization;

/// <summary>
/// What to optimize: the decision variables (candidates are arrays in this order), the constraints
/// (evaluations report one value per constraint in this order), the direction and the evaluation
/// budget. Immutable; one problem may serve many optimizers.
/// </summary>
public sealed class OptimizationProblem
{
    /// <summary>
    /// 1e30: a bound whose magnitude is at least this means "no bound" (±1e100 is how many clients,
    /// and solvers such as Gurobi, spell ∞). A constraint side with such a bound has no limit, and a
    /// constraint with no finite bound is never a constraint; a <see cref="DecisionVariable"/> needs
    /// both bounds below it, since the optimizers search between them.
    /// </summary>
    public const double InfiniteBound = 1e30;

    /// <summary>Creates a problem.</summary>
    /// <param name="variables">At least one variable.</param>
    /// <param name="constraints">The limited (or only recorded) outputs of an evaluation; may be empty.</param>
    /// <param name="maximize">True to maximize the objective, false to minimize it.</param>
    /// <param name="maxEvaluations">
    /// The evaluation budget. Methods with a schedule (simulated annealing) plan for it;
    /// <see cref="Optimizer.Ask"/> keeps proposing past it.
    /// </param>
    /// <exception cref="ArgumentException">No variables, a null entry, or a budget below 1.</exception>
    public OptimizationProblem(IReadOnlyList<DecisionVariable> variables, IReadOnlyList<Constraint> constraints, bool maximize, int maxEvaluations)
    {
        ArgumentNullException.ThrowIfNull(variables);
        ArgumentNullException.ThrowIfNull(constraints);
        ArgumentOutOfRangeException.ThrowIfZero(variables.Count, nameof(variables));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEvaluations);
        if (variables.Contains(null!) || constraints.Contains(null!))
        {
            throw new ArgumentException("variables and constraints cannot hold null entries");
        }

        Variables = [.. variables];
        Constraints = [.. constraints];
        Maximize = maximize;
        MaxEvaluations = maxEvaluations;
    }

    /// <summary>The decision variables; a candidate holds one value per variable, in this order.</summary>
    public IReadOnlyList<DecisionVariable> Variables { get; }

    /// <summary>The constraints; <see cref="Evaluation.ConstraintValues"/> are in this order.</summary>
    public IReadOnlyList<Constraint> Constraints { get; }

    /// <summary>True to maximize the objective, false to minimize it.</summary>
    public bool Maximize { get; }

    /// <summary>The evaluation budget.</summary>
    public int MaxEvaluations { get; }

    /// <summary>
    /// Total limit violation of an evaluation, each constraint's excess scaled by the width of its
    /// limits (or 1 when one-sided): 0 when feasible, +∞ for a failed evaluation or a NaN value of a
    /// limited constraint.
    /// </summary>
    public double Violation(in Evaluation evaluation) => Feasibility.Violation(this, evaluation);

    /// <summary>True when the evaluation succeeded and every limited constraint is within its limits.</summary>
    public bool IsFeasible(in Evaluation evaluation) => Feasibility.IsFeasible(this, evaluation);
}
