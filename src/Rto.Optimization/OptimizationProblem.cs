namespace Rto.Server.Optimization;

/// <summary>How a manipulated variable may move: any real, whole numbers, or 0/1.</summary>
public enum VariableType
{
    /// <summary>Any real value within the bounds.</summary>
    Numeric,

    /// <summary>Whole numbers within the bounds.</summary>
    Integer,

    /// <summary>0 or 1.</summary>
    Bool,
}

/// <summary>A manipulated variable (MV): a set-point the optimizer may move within its bounds.</summary>
public sealed record DecisionVariable(string Id, string Name, VariableType Type, double Lower, double Upper);

/// <summary>
/// A controlled variable (CV): a model or plant output that must stay within its bounds.
/// A bound of ±<see cref="double.MaxValue"/> (or an infinity) means "no limit" on that side.
/// </summary>
public sealed record ConstraintVariable(string Id, string Name, double Lower, double Upper)
{
    /// <summary>True when the lower bound is a real limit.</summary>
    public bool HasLower => Lower > double.MinValue && !double.IsNegativeInfinity(Lower);

    /// <summary>True when the upper bound is a real limit.</summary>
    public bool HasUpper => Upper < double.MaxValue && !double.IsPositiveInfinity(Upper);
}

/// <summary>What one optimization session solves: MVs, CV limits, direction, budget and seed.</summary>
public sealed class OptimizationProblem
{
    public OptimizationProblem(IReadOnlyList<DecisionVariable> mvs, IReadOnlyList<ConstraintVariable> cvs, bool maximize, int maxEvaluations, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfZero(mvs.Count, nameof(mvs));
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(maxEvaluations);
        Mvs = mvs;
        Cvs = cvs;
        Maximize = maximize;
        MaxEvaluations = maxEvaluations;
        Seed = seed;
    }

    /// <summary>The MVs in session order; candidates are arrays in this order.</summary>
    public IReadOnlyList<DecisionVariable> Mvs { get; }

    /// <summary>The CVs in session order; <see cref="Evaluation.Cvs"/> are in this order.</summary>
    public IReadOnlyList<ConstraintVariable> Cvs { get; }

    /// <summary>True to maximize the objective, false to minimize it.</summary>
    public bool Maximize { get; }

    /// <summary>The evaluation budget (the spec's <c>max_iterations</c>).</summary>
    public int MaxEvaluations { get; }

    /// <summary>Seed of every random choice; the same problem, seed and evaluations give the same candidates.</summary>
    public int Seed { get; }
}

/// <summary>
/// The result of evaluating one candidate. <see cref="Cvs"/> holds one value per CV in problem order
/// (NaN when the caller did not report it). A failed evaluation (<see cref="Succeeded"/> false, the
/// spec's objective <c>isGood = false</c>) counts as infeasible.
/// </summary>
public readonly record struct Evaluation(double Objective, double[] Cvs, bool Succeeded);

/// <summary>
/// A derivative-free optimizer as an ask/tell state machine: no threads, no waiting.
/// The session calls <see cref="Ask"/> exactly once per evaluation and then <see cref="Tell"/> with
/// that same candidate before asking again. Given the same problem (including its seed) and the same
/// evaluations, the same candidates come out: a session restored after a restart replays its history
/// through a fresh optimizer and continues exactly where it was.
/// </summary>
public interface IOptimizer
{
    /// <summary>The next candidate, one value per MV in problem order, inside the bounds and of the MV's type.</summary>
    double[] Ask();

    /// <summary>Reports the evaluation of the candidate the last <see cref="Ask"/> returned.</summary>
    void Tell(double[] candidate, Evaluation evaluation);
}
