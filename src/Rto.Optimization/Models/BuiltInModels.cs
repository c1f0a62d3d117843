namespace Rto.Server.Optimization.Models;

/// <summary>The test models every server has without a models folder.</summary>
public static class BuiltInModels
{
    /// <summary>Every built-in model.</summary>
    public static IReadOnlyList<ProcessModel> All { get; } = [new Parabola4(), new ConstrainedParabola4(), new Rosenbrock(), new IntegerBool()];

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

        public override OptimizationProblem CreateProblem(int maxEvaluations, int seed) =>
            new([.. Inputs.Select(i => Numeric(i, -10, 10))], [Unlimited("y")], maximize: true, maxEvaluations, seed);

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

        public override OptimizationProblem CreateProblem(int maxEvaluations, int seed) =>
            new([.. Inputs.Select(i => Numeric(i, -10, 10))], [Unlimited("y"), new("c1", "c1", double.MinValue, -2), new("c2", "c2", double.MinValue, 3)], maximize: true, maxEvaluations, seed);
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

        public override OptimizationProblem CreateProblem(int maxEvaluations, int seed) =>
            new([Numeric("x", -2, 2), Numeric("y", -2, 2)], [Unlimited("f")], maximize: false, maxEvaluations, seed);
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

        public override OptimizationProblem CreateProblem(int maxEvaluations, int seed) =>
            new([new("n1", "n1", VariableType.Integer, -5, 5), new("n2", "n2", VariableType.Integer, -5, 5), new("b1", "b1", VariableType.Bool, 0, 1), new("b2", "b2", VariableType.Bool, 0, 1)],
                [Unlimited("f")], maximize: false, maxEvaluations, seed);
    }

    private static double Sq(double v) => v * v;

    private static DecisionVariable Numeric(string id, double lower, double upper) => new(id, id, VariableType.Numeric, lower, upper);

    private static ConstraintVariable Unlimited(string id) => new(id, id, double.MinValue, double.MaxValue);
}

/// <summary>The optimum of a built-in model: objective value and MVs in input order.</summary>
public sealed record KnownOptimum(double Objective, IReadOnlyList<double> Mvs);

/// <summary>A built-in test model that also knows a suggested problem (MVs, CV limits, direction) and its optimum.</summary>
public abstract class BuiltInModel : ProcessModel
{
    /// <summary>The optimum of <see cref="CreateProblem"/>'s problem.</summary>
    public abstract KnownOptimum Optimum { get; }

    /// <summary>The suggested problem: one MV per input (same ids, in order) and one CV per output (same ids, in order).</summary>
    public abstract OptimizationProblem CreateProblem(int maxEvaluations, int seed);

    /// <summary>Evaluates a candidate of <see cref="CreateProblem"/>'s problem as an optimizer evaluation.</summary>
    public Evaluation EvaluateCandidate(double[] candidate)
    {
        var outputs = new double[Outputs.Count];
        double objective = Evaluate(candidate, outputs);
        return new Evaluation(objective, outputs, Succeeded: true);
    }
}
