namespace Rto.Optimization.Models;

/// <summary>
/// Test problems with known optima, as models (the Rto server serves them to CalculateCV under
/// these ids) and as ready-made problems: try a method on them before pointing it at a plant.
/// </summary>
public static partial class BuiltInModels
{
    /// <summary>
    /// Every built-in model: <c>parabola4</c>, <c>parabola4-constrained</c>, <c>rosenbrock</c>, <c>intbool</c>,
    /// and the plant-like <c>plant6-linear</c> and <c>plant8-nonlinear</c>.
    /// </summary>
    public static IReadOnlyList<BuiltInModel> All { get; } = [new Parabola4(), new ConstrainedParabola4(), new Rosenbrock(), new IntegerBool(), new LinearPlant(), new NonlinearPlant()];

    /// <summary>10 − (x1−2)² − (x2+3)² − (x3−4)² − (x4−1)²: maximum 10 at (2, −3, 4, 1); output <c>y</c> equals the objective.</summary>
    private sealed class Parabola4 : BuiltInModel
    {
        public override string Id => "parabola4";

        public override string Description => "10 - (x1-2)^2 - (x2+3)^2 - (x3-4)^2 - (x4-1)^2, maximum 10 at (2, -3, 4, 1)";

        public override IReadOnlyList<string> Inputs { get; } = ["x1", "x2", "x3", "x4"];

        public override IReadOnlyList<string> Outputs { get; } = ["y"];

        public override KnownOptimum Optimum { get; } = new(10, [2, -3, 4, 1]);

        public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            double y = Value(inputs);
            outputs[0] = y;
            return y;
        }

        public override OptimizationProblem CreateProblem(int maxEvaluations) =>
            new([.. Inputs.Select(i => Numeric(i, -10, 10))], [Unlimited("y")], maximize: true, maxEvaluations);

        internal static double Value(ReadOnlySpan<double> x) => 10 - Sq(x[0] - 2) - Sq(x[1] + 3) - Sq(x[2] - 4) - Sq(x[3] - 1);
    }

    /// <summary>
    /// The parabola with c1 = x1 + x2 ≤ −2 and c2 = x3 ≤ 3, both active at the optimum: minimising
    /// (x1−2)² + (x2+3)² on x1 + x2 = −2 gives x1 = 1.5, x2 = −3.5 (loss 0.5), x3 = 3 (loss 1), so the
    /// maximum is 8.5 at (1.5, −3.5, 3, 1).
    /// </summary>
    private sealed class ConstrainedParabola4 : BuiltInModel
    {
        public override string Id => "parabola4-constrained";

        public override string Description => "parabola4 with c1 = x1 + x2 <= -2 and c2 = x3 <= 3; maximum 8.5 at (1.5, -3.5, 3, 1)";

        public override IReadOnlyList<string> Inputs { get; } = ["x1", "x2", "x3", "x4"];

        public override IReadOnlyList<string> Outputs { get; } = ["y", "c1", "c2"];

        public override KnownOptimum Optimum { get; } = new(8.5, [1.5, -3.5, 3, 1]);

        public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            double y = Parabola4.Value(inputs);
            outputs[0] = y;
            outputs[1] = inputs[0] + inputs[1];
            outputs[2] = inputs[2];
            return y;
        }

        public override OptimizationProblem CreateProblem(int maxEvaluations) =>
            new([.. Inputs.Select(i => Numeric(i, -10, 10))], [Unlimited("y"), Constraint.AtMost("c1", -2), Constraint.AtMost("c2", 3)], maximize: true, maxEvaluations);
    }

    /// <summary>(1−x)² + 100(y−x²)², minimum 0 at (1, 1); output <c>f</c> equals the objective.</summary>
    private sealed class Rosenbrock : BuiltInModel
    {
        public override string Id => "rosenbrock";

        public override string Description => "(1-x)^2 + 100 (y-x^2)^2, minimum 0 at (1, 1)";

        public override IReadOnlyList<string> Inputs { get; } = ["x", "y"];

        public override IReadOnlyList<string> Outputs { get; } = ["f"];

        public override KnownOptimum Optimum { get; } = new(0, [1, 1]);

        public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            double f = Sq(1 - inputs[0]) + (100 * Sq(inputs[1] - Sq(inputs[0])));
            outputs[0] = f;
            return f;
        }

        public override OptimizationProblem CreateProblem(int maxEvaluations) =>
            new([Numeric("x", -2, 2), Numeric("y", -2, 2)], [Unlimited("f")], maximize: false, maxEvaluations);
    }

    /// <summary>
    /// Integers n1, n2 in [−5, 5] and bools b1, b2: f = (n1 − 1 − 2·b1)² + (n2 + 1 − 3·b2)² + 0.6·n1·n2
    /// − 3·b1·b2 + 1.5·b1 + 2·b2, minimum −1.3 at (4, −2, 1, 0), unique over all 484 combinations
    /// (the relaxed optimum rounds elsewhere, and the best n1, n2 depend on the bools).
    /// </summary>
    private sealed class IntegerBool : BuiltInModel
    {
        public override string Id => "intbool";

        public override string Description => "(n1-1-2 b1)^2 + (n2+1-3 b2)^2 + 0.6 n1 n2 - 3 b1 b2 + 1.5 b1 + 2 b2 over integers n1, n2 in [-5, 5] and bools b1, b2; minimum -1.3 at (4, -2, 1, 0)";

        public override IReadOnlyList<string> Inputs { get; } = ["n1", "n2", "b1", "b2"];

        public override IReadOnlyList<string> Outputs { get; } = ["f"];

        public override KnownOptimum Optimum { get; } = new(-1.3, [4, -2, 1, 0]);

        public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            double n1 = inputs[0], n2 = inputs[1], b1 = inputs[2], b2 = inputs[3];
            double f = Sq(n1 - 1 - (2 * b1)) + Sq(n2 + 1 - (3 * b2)) + (0.6 * n1 * n2) - (3 * b1 * b2) + (1.5 * b1) + (2 * b2);
            outputs[0] = f;
            return f;
        }

        public override OptimizationProblem CreateProblem(int maxEvaluations) =>
            new([DecisionVariable.Integer("n1", -5, 5), DecisionVariable.Integer("n2", -5, 5), DecisionVariable.Bool("b1"), DecisionVariable.Bool("b2")],
                [Unlimited("f")], maximize: false, maxEvaluations);
    }

    private static double Sq(double v) => v * v;

    private static DecisionVariable Numeric(string id, double lower, double upper) => DecisionVariable.Continuous(id, lower, upper);

    private static Constraint Unlimited(string id) => Constraint.Unlimited(id);
}

/// <summary>The optimum of a built-in model: the objective value and the candidate (variables in input order).</summary>
/// <param name="Objective">The optimal objective value.</param>
/// <param name="Candidate">Where it is reached, one value per input.</param>
public sealed record KnownOptimum(double Objective, IReadOnlyList<double> Candidate);

/// <summary>A built-in test model that also knows a suggested problem (variables, limits, direction) and its optimum.</summary>
public abstract class BuiltInModel : ProcessModel
{
    private protected BuiltInModel()
    {
    }

    /// <summary>The optimum of <see cref="CreateProblem"/>'s problem.</summary>
    public abstract KnownOptimum Optimum { get; }

    /// <summary>The suggested problem: one variable per input (same ids, in order) and one constraint per output (same ids, in order).</summary>
    /// <param name="maxEvaluations">The evaluation budget.</param>
    public abstract OptimizationProblem CreateProblem(int maxEvaluations);

    /// <summary>Evaluates a candidate of <see cref="CreateProblem"/>'s problem as an optimizer evaluation.</summary>
    public Evaluation EvaluateCandidate(double[] candidate)
    {
        var outputs = new double[Outputs.Count];
        double objective = Evaluate(candidate, outputs);
        return new Evaluation(objective, outputs, Succeeded: true);
    }
}
