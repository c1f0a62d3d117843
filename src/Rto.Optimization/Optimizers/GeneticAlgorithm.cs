namespace Rto.Optimization.Optimizers;

/// <summary>
/// Real-coded genetic algorithm (<c>Genetic_Algo</c>): population 20, binary tournament selection,
/// BLX-0.3 blend crossover (probability 0.9), Gaussian mutation (each gene with probability 1/n, σ
/// shrinking with the generation), (μ+λ) survival by feasibility-first rank so the best is never lost.
/// Whole-valued variables are rounded when proposed.
/// </summary>
internal sealed class GeneticAlgorithm(OptimizationProblem problem, int seed) : SequentialOptimizer(problem, seed)
{
    private const int PopulationSize = 20;

    protected override IEnumerable<double[]> Steps()
    {
        int n = Space.Dimension;
        var population = new List<Trial>();
        for (int k = 0; k < PopulationSize; k++)
        {
            yield return RandomPoint();
            population.Add(Last);
        }

        for (int generation = 1; ; generation++)
        {
            double sigma = Math.Max(0.2 / Math.Sqrt(generation), 0.005);
            var offspring = new List<Trial>();
            for (int k = 0; k < PopulationSize; k++)
            {
                double[] a = Tournament(population).Unit, b = Tournament(population).Unit;
                bool cross = Random.NextDouble() < 0.9;
                var child = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double value = a[i];
                    if (cross)
                    {
                        double low = Math.Min(a[i], b[i]), span = Math.Abs(a[i] - b[i]);
                        value = low - (0.3 * span) + (Random.NextDouble() * 1.6 * span);
                    }

                    if (Random.NextDouble() < 1.0 / n)
                    {
                        value += Math.Max(sigma, Space.LatticeStep(i)) * Gaussian();
                    }

                    child[i] = Math.Clamp(value, 0, 1);
                }

                yield return child;
                offspring.Add(Last);
            }

            population = [.. population.Concat(offspring).Order(Comparer<Trial>.Create(Rank)).Take(PopulationSize)];
        }
    }

    private Trial Tournament(List<Trial> population)
    {
        Trial a = population[Random.Next(population.Count)], b = population[Random.Next(population.Count)];
        return b.IsBetterThan(a) ? b : a;
    }

    private static int Rank(Trial a, Trial b) => a.IsBetterThan(b) ? -1 : b.IsBetterThan(a) ? 1 : 0;

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - Random.NextDouble())) * Math.Cos(2 * Math.PI * Random.NextDouble());
}
