namespace Rto.Server.Optimization.Optimizers;

/// <summary>
/// The optimization methods a session may ask for by name (<c>optimization_method</c>), case-insensitive.
/// The five names of the original service map onto the methods below (see docs/rto-optimizers.md);
/// an empty name selects the default, the model-based trust-region method.
/// </summary>
public static class OptimizationMethods
{
    /// <summary>The method an empty name selects.</summary>
    public const string Default = "TrustRegion";

    private static readonly (string Name, Func<OptimizationProblem, IOptimizer> Create)[] Methods =
    [
        ("GaussOpt", p => new TrustRegionOptimizer(p)),
        ("SimulatedAnnealingOpt", p => new SimulatedAnnealing(p)),
        ("EvolutionaryOpt", p => new DifferentialEvolution(p)),
        ("TestStepOpt", p => new PatternSearch(p)),
        ("Genetic_Algo", p => new GeneticAlgorithm(p)),
        ("TrustRegion", p => new TrustRegionOptimizer(p)),
        ("NelderMead", p => new NelderMead(p)),
        ("PatternSearch", p => new PatternSearch(p)),
        ("DifferentialEvolution", p => new DifferentialEvolution(p)),
        ("GeneticAlgorithm", p => new GeneticAlgorithm(p)),
        ("SimulatedAnnealing", p => new SimulatedAnnealing(p)),
    ];

    /// <summary>Every accepted method name (the five original names first), for error messages.</summary>
    public static IReadOnlyList<string> Known { get; } = [.. Methods.Select(m => m.Name)];

    /// <summary>Creates the optimizer for <paramref name="method"/> (empty = the default); false for an unknown name.</summary>
    public static bool TryCreate(string method, OptimizationProblem problem, out IOptimizer? optimizer)
    {
        string name = string.IsNullOrWhiteSpace(method) ? Default : method.Trim();
        foreach ((string known, Func<OptimizationProblem, IOptimizer> create) in Methods)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                optimizer = create(problem);
                return true;
            }
        }

        optimizer = null;
        return false;
    }
}
