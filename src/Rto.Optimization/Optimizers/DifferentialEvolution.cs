namespace Rto.Optimization.Optimizers;

/// <summary>
/// Differential evolution, current-to-best/1/bin (F = 0.6, CR = 0.9), with a Latin-hypercube start
/// and steady-state replacement: each trial vector replaces its target as soon as it ranks no worse
/// (feasibility first). Works on the relaxation; whole-valued variables are rounded when proposed and the
/// population keeps the rounded points. Robust on rugged or multimodal responses, but needs many
/// evaluations (a population of 5n per generation, at least 10 and at most 100: with hundreds of variables a
/// larger one would spend whole budgets on its first generation and cost seconds to lay out).
/// </summary>
internal sealed class DifferentialEvolution(OptimizationProblem problem, int seed) : SequentialOptimizer(problem, seed)
{
    private const double Weight = 0.6;
    private const double Crossover = 0.9;
    private const int MaxPopulation = 100;

    protected override IEnumerable<double[]> Steps()
    {
        int n = Space.Dimension;
        int size = Math.Clamp(5 * n, 10, MaxPopulation);
        var population = new Trial[size];
        foreach ((int index, double[] point) in LatinHypercube(size).Select((p, i) => (i, p)))
        {
            yield return point;
            population[index] = Last;
        }

        while (true)
        {
            for (int target = 0; target < size; target++)
            {
                Trial best = population.Aggregate((a, b) => b.IsBetterThan(a) ? b : a);
                int r1, r2;
                do
                {
                    r1 = Random.Next(size);
                }
                while (r1 == target);

                do
                {
                    r2 = Random.Next(size);
                }
                while (r2 == target || r2 == r1);

                double[] x = population[target].Unit;
                int forced = Random.Next(n);
                var trial = new double[n];
                for (int i = 0; i < n; i++)
                {
                    double mutant = x[i] + (Weight * (best.Unit[i] - x[i])) + (Weight * (population[r1].Unit[i] - population[r2].Unit[i]));
                    if (mutant < 0 || mutant > 1)
                    {
                        // Bounce back between the parent and the violated bound rather than piling up on it.
                        mutant = mutant < 0 ? x[i] * Random.NextDouble() : x[i] + ((1 - x[i]) * Random.NextDouble());
                    }

                    trial[i] = i == forced || Random.NextDouble() < Crossover ? mutant : x[i];
                }

                yield return trial;
                if (!population[target].IsBetterThan(Last))
                {
                    population[target] = Last;
                }
            }
        }
    }

    private List<double[]> LatinHypercube(int size)
    {
        int n = Space.Dimension;
        var points = Enumerable.Range(0, size).Select(_ => new double[n]).ToList();
        for (int i = 0; i < n; i++)
        {
            int[] strata = [.. Enumerable.Range(0, size)];
            Random.Shuffle(strata);
            for (int k = 0; k < size; k++)
            {
                points[k][i] = (strata[k] + Random.NextDouble()) / size;
            }
        }

        return points;
    }
}
