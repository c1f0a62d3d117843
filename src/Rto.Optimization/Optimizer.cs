using System.Diagnostics.CodeAnalysis;
using Rto.Optimization.Optimizers;

namespace Rto.Optimization;

/// <summary>
/// A derivative-free optimizer as an ask/tell state machine: <see cref="Ask"/> for a candidate,
/// evaluate it however you like (a plant test, a simulation, a C# function), <see cref="Tell(double[], Evaluation)"/>
/// the outcome, repeat. No threads, no callbacks, no waiting, so the evaluation may take hours
/// and the loop may live anywhere. Deterministic: the same method, problem, seed and evaluations
/// give the same candidates, so replaying recorded evaluations through a new optimizer continues
/// exactly where the old one was. Not thread-safe; serialize calls on one instance.
/// </summary>
/// <example>
/// <code>
/// var problem = new OptimizationProblem([DecisionVariable.Continuous("x", -5, 5)], [], maximize: false, maxEvaluations: 50);
/// var optimizer = Optimizer.Create(OptimizationMethods.TrustRegion, problem, seed: 1);
/// while (!optimizer.IsBudgetSpent)
/// {
///     double[] x = optimizer.Ask();
///     optimizer.Tell(x, objective: Math.Pow(x[0] - 1, 2));
/// }
/// </code>
/// </example>
public sealed class Optimizer
{
    private readonly SequentialOptimizer _method;
    private EvaluatedCandidate? _best;
    private int _evaluations;

    private Optimizer(string method, OptimizationProblem problem, int seed, SequentialOptimizer implementation)
    {
        Method = method;
        Problem = problem;
        Seed = seed;
        _method = implementation;
    }

    /// <summary>The method name as given to <see cref="Create"/> (empty for the default).</summary>
    public string Method { get; }

    /// <summary>The problem being solved.</summary>
    public OptimizationProblem Problem { get; }

    /// <summary>The seed of every random choice of the method.</summary>
    public int Seed { get; }

    /// <summary>Evaluations told so far.</summary>
    public int Evaluations => _evaluations;

    /// <summary>True once <see cref="OptimizationProblem.MaxEvaluations"/> evaluations were told (asking more still works).</summary>
    public bool IsBudgetSpent => _evaluations >= Problem.MaxEvaluations;

    /// <summary>
    /// The best evaluation so far, feasibility first: any feasible evaluation beats any infeasible
    /// one, feasible ones compare by objective, infeasible ones by total violation; the earliest wins
    /// a tie. <see langword="null"/> before the first <see cref="Tell(double[], Evaluation)"/>.
    /// </summary>
    public EvaluatedCandidate? Best => _best;

    /// <summary>Creates the optimizer for a method name of <see cref="OptimizationMethods"/> (case-insensitive; empty selects the default).</summary>
    /// <exception cref="ArgumentException">The method name is unknown (the message lists the known names).</exception>
    public static Optimizer Create(string method, OptimizationProblem problem, int seed) =>
        TryCreate(method, problem, seed, out Optimizer? optimizer)
            ? optimizer
            : throw new ArgumentException($"unknown optimization method '{method}'; known methods: {string.Join(", ", OptimizationMethods.Known)} (empty selects the default)", nameof(method));

    /// <summary>Creates the optimizer for a method name; false when the name is unknown.</summary>
    public static bool TryCreate(string method, OptimizationProblem problem, int seed, [NotNullWhen(true)] out Optimizer? optimizer)
    {
        ArgumentNullException.ThrowIfNull(problem);
        optimizer = OptimizationMethods.TryCreate(method, problem, seed, out SequentialOptimizer? implementation)
            ? new Optimizer(method ?? "", problem, seed, implementation)
            : null;
        return optimizer is not null;
    }

    /// <summary>
    /// The candidate to evaluate next: one value per variable in problem order, within the bounds,
    /// whole for Integer and 0/1 for Bool variables. Asking again before telling returns the same
    /// candidate (a retry is safe). A fresh array each time.
    /// </summary>
    public double[] Ask() => _method.Ask();

    /// <summary>Reports a successful evaluation of <paramref name="candidate"/>.</summary>
    /// <param name="candidate">The candidate <see cref="Ask"/> returned.</param>
    /// <param name="objective">Its objective value.</param>
    /// <param name="constraintValues">One value per constraint of the problem, in problem order.</param>
    /// <exception cref="ArgumentException">The candidate or the constraint values do not match the problem.</exception>
    public void Tell(double[] candidate, double objective, params ReadOnlySpan<double> constraintValues) =>
        Tell(candidate, new Evaluation(objective, constraintValues.ToArray()));

    /// <summary>
    /// Reports the evaluation of <paramref name="candidate"/>, normally the one <see cref="Ask"/>
    /// returned. Another candidate may be told (a replay of recorded evaluations, a point the
    /// operator chose); the method then learns from it as if it had proposed it.
    /// </summary>
    /// <exception cref="ArgumentException">The candidate or the constraint values do not match the problem.</exception>
    public void Tell(double[] candidate, Evaluation evaluation)
    {
        ArgumentNullException.ThrowIfNull(candidate);
        if (candidate.Length != Problem.Variables.Count)
        {
            throw new ArgumentException($"the candidate has {candidate.Length} values; the problem has {Problem.Variables.Count} variables", nameof(candidate));
        }

        if (evaluation.ConstraintValues is null || evaluation.ConstraintValues.Length != Problem.Constraints.Count)
        {
            throw new ArgumentException($"the evaluation has {evaluation.ConstraintValues?.Length ?? 0} constraint values; the problem has {Problem.Constraints.Count} constraints", nameof(evaluation));
        }

        // Copies, so a caller reusing its arrays cannot change what the method remembers.
        double[] told = (double[])candidate.Clone();
        var kept = evaluation with { ConstraintValues = (double[])evaluation.ConstraintValues.Clone() };
        _method.Tell(told, kept);
        _evaluations++;
        double violation = Feasibility.Violation(Problem, kept);
        if (_best is null || Feasibility.IsBetter(Problem.Maximize, kept.Objective, violation, _best.Objective, _best.Violation))
        {
            // Its own copy of the values: the method keeps `kept`, and Best is handed to callers.
            _best = new EvaluatedCandidate(told, kept with { ConstraintValues = (double[])kept.ConstraintValues.Clone() }, violation, _evaluations);
        }
    }
}

/// <summary>One told evaluation: the candidate, its outcome, its violation and its number.</summary>
public sealed class EvaluatedCandidate
{
    private readonly double[] _candidate;

    internal EvaluatedCandidate(double[] candidate, Evaluation evaluation, double violation, int number)
    {
        _candidate = candidate;
        Evaluation = evaluation;
        Violation = violation;
        Number = number;
    }

    /// <summary>The candidate, one value per variable in problem order.</summary>
    public IReadOnlyList<double> Candidate => _candidate;

    /// <summary>The reported outcome.</summary>
    public Evaluation Evaluation { get; }

    /// <summary>The objective value.</summary>
    public double Objective => Evaluation.Objective;

    /// <summary>Total constraint violation (see <see cref="OptimizationProblem.Violation"/>); 0 when feasible.</summary>
    public double Violation { get; }

    /// <summary>True when the evaluation succeeded and every limited constraint held.</summary>
    public bool IsFeasible => Violation == 0;

    /// <summary>Which evaluation it was, counting from 1.</summary>
    public int Number { get; }

    /// <summary>A copy of the candidate.</summary>
    public double[] ToArray() => (double[])_candidate.Clone();
}
