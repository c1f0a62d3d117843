using System.Diagnostics.CodeAnalysis;
using Rto.Optimization.Optimizers;

namespace Rto.Optimization;

/// <summary>
/// The method names <see cref="Optimizer.Create"/> accepts, case-insensitively. Besides the six
/// descriptive names, the five names of the original RTO service are accepted (see
/// <see cref="Known"/>); an empty name selects <see cref="Default"/>.
/// </summary>
public static class OptimizationMethods
{
    /// <summary>
    /// Model-based trust region (BOBYQA/COBYLA family): quadratic models of the objective and every
    /// limited constraint; the fewest evaluations on smooth problems. The default.
    /// </summary>
    public const string TrustRegion = "TrustRegion";

    /// <summary>Nelder–Mead simplex (dimension-adaptive coefficients), restarted when it collapses.</summary>
    public const string NelderMead = "NelderMead";

    /// <summary>Compass (pattern) search, automated plant step testing: one variable up or down at a time, the step halved when none improves.</summary>
    public const string PatternSearch = "PatternSearch";

    /// <summary>Differential evolution (current-to-best/1/bin): robust on rugged or multimodal responses, at many evaluations.</summary>
    public const string DifferentialEvolution = "DifferentialEvolution";

    /// <summary>A real-coded genetic algorithm (tournament selection, blend crossover, Gaussian mutation).</summary>
    public const string GeneticAlgorithm = "GeneticAlgorithm";

    /// <summary>Simulated annealing whose temperature schedule spans the evaluation budget.</summary>
    public const string SimulatedAnnealing = "SimulatedAnnealing";

    /// <summary>The method an empty name selects.</summary>
    public const string Default = TrustRegion;

    private static readonly (string Name, Func<OptimizationProblem, int, SequentialOptimizer> Create)[] Methods =
    [
        ("GaussOpt", (p, s) => new TrustRegionOptimizer(p, s)),
        ("SimulatedAnnealingOpt", (p, s) => new Optimizers.SimulatedAnnealing(p, s)),
        ("EvolutionaryOpt", (p, s) => new Optimizers.DifferentialEvolution(p, s)),
        ("TestStepOpt", (p, s) => new Optimizers.PatternSearch(p, s)),
        ("Genetic_Algo", (p, s) => new Optimizers.GeneticAlgorithm(p, s)),
        (TrustRegion, (p, s) => new TrustRegionOptimizer(p, s)),
        (NelderMead, (p, s) => new Optimizers.NelderMead(p, s)),
        (PatternSearch, (p, s) => new Optimizers.PatternSearch(p, s)),
        (DifferentialEvolution, (p, s) => new Optimizers.DifferentialEvolution(p, s)),
        (GeneticAlgorithm, (p, s) => new Optimizers.GeneticAlgorithm(p, s)),
        (SimulatedAnnealing, (p, s) => new Optimizers.SimulatedAnnealing(p, s)),
    ];

    /// <summary>
    /// Every accepted name: first the original RTO service's <c>GaussOpt</c> (trust region),
    /// <c>SimulatedAnnealingOpt</c>, <c>EvolutionaryOpt</c> (differential evolution),
    /// <c>TestStepOpt</c> (pattern search) and <c>Genetic_Algo</c>, then the six descriptive names.
    /// </summary>
    public static IReadOnlyList<string> Known { get; } = [.. Methods.Select(m => m.Name)];

    /// <summary>The method for <paramref name="method"/> (empty = the default); false for an unknown name.</summary>
    internal static bool TryCreate(string? method, OptimizationProblem problem, int seed, [NotNullWhen(true)] out SequentialOptimizer? optimizer)
    {
        string name = string.IsNullOrWhiteSpace(method) ? Default : method.Trim();
        foreach ((string known, Func<OptimizationProblem, int, SequentialOptimizer> create) in Methods)
        {
            if (string.Equals(known, name, StringComparison.OrdinalIgnoreCase))
            {
                optimizer = create(problem, seed);
                return true;
            }
        }

        optimizer = null;
        return false;
    }
}
