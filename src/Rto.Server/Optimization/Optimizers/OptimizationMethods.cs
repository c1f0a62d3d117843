namespace Rto.Server.Optimization.Optimizers;

/// <summary>
/// The optimization methods a session may ask for by name (<c>optimization_method</c>).
/// PLACEHOLDER: a seeded random search so the service can be built; replaced by the real optimizers.
/// </summary>
public static class OptimizationMethods
{
    /// <summary>Every accepted method name (the five original names first), for error messages.</summary>
    public static IReadOnlyList<string> Known { get; } = ["GaussOpt", "SimulatedAnnealingOpt", "EvolutionaryOpt", "TestStepOpt", "Genetic_Algo"];

    /// <summary>Creates the optimizer for <paramref name="method"/> (empty = the default); false for an unknown name.</summary>
    public static bool TryCreate(string method, OptimizationProblem problem, out IOptimizer? optimizer)
    {
        if (method.Length != 0 && !Known.Contains(method, StringComparer.Ordinal))
        {
            optimizer = null;
            return false;
        }

        optimizer = new RandomSearch(problem);
        return true;
    }

    private sealed class RandomSearch(OptimizationProblem problem) : IOptimizer
    {
        private readonly Random _random = new(problem.Seed);

        public double[] Ask()
        {
            var x = new double[problem.Mvs.Count];
            for (int i = 0; i < x.Length; i++)
            {
                DecisionVariable mv = problem.Mvs[i];
                double v = mv.Lower + (_random.NextDouble() * (mv.Upper - mv.Lower));
                x[i] = mv.Type switch
                {
                    VariableType.Bool => v >= 0.5 ? 1 : 0,
                    VariableType.Integer => Math.Clamp(Math.Round(v), Math.Ceiling(mv.Lower), Math.Floor(mv.Upper)),
                    _ => v,
                };
            }

            return x;
        }

        public void Tell(double[] candidate, Evaluation evaluation)
        {
        }
    }
}
