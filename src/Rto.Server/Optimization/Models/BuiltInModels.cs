namespace Rto.Server.Optimization.Models;

/// <summary>
/// The test models every server has without a models folder.
/// PLACEHOLDER: only the 4-MV parabola; the optimizer work adds the constrained variant, Rosenbrock and an integer/bool problem.
/// </summary>
public static class BuiltInModels
{
    /// <summary>Every built-in model.</summary>
    public static IReadOnlyList<ProcessModel> All { get; } = [new Parabola4()];

    /// <summary>10 − (x1−2)² − (x2+3)² − (x3−4)² − (x4−1)²: maximum 10 at (2, −3, 4, 1); output <c>y</c> equals the objective.</summary>
    private sealed class Parabola4 : ProcessModel
    {
        public override string Id => "parabola4";

        public override string Description => "10 - (x1-2)^2 - (x2+3)^2 - (x3-4)^2 - (x4-1)^2, maximum 10 at (2, -3, 4, 1)";

        public override IReadOnlyList<string> Inputs { get; } = ["x1", "x2", "x3", "x4"];

        public override IReadOnlyList<string> Outputs { get; } = ["y"];

        public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
        {
            double y = 10 - Sq(inputs[0] - 2) - Sq(inputs[1] + 3) - Sq(inputs[2] - 4) - Sq(inputs[3] - 1);
            outputs[0] = y;
            return y;
        }

        private static double Sq(double v) => v * v;
    }
}
