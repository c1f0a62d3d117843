namespace Rto.Optimization.Optimizers;

/// <summary>
/// Simulated annealing: a Gaussian move of every coordinate (σ shrinking from 0.2 to 0.005 of the
/// range over the budget; whole-valued variables move by at least one step), Metropolis acceptance on the
/// objective between feasible points and on the violation otherwise, geometric cooling from the
/// objective spread seen in the first moves down to 10⁻⁴ of it at the end of the budget. After the
/// budget it reheats and runs another cycle from the best point.
/// </summary>
internal sealed class SimulatedAnnealing(OptimizationProblem problem, int seed) : SequentialOptimizer(problem, seed)
{
    protected override IEnumerable<double[]> Steps()
    {
        int n = Space.Dimension;
        int budget = Math.Max(Problem.MaxEvaluations, 10);
        yield return Space.Snap(JitteredCentre(0.1));
        Trial current = Last, best = Last;
        double spread = 0;
        for (int cycle = 0; ; cycle++)
        {
            if (cycle > 0)
            {
                current = best;
            }

            for (int k = 1; k < budget; k++)
            {
                double progress = (double)k / budget;
                double sigma = 0.2 * Math.Pow(0.025, progress);
                double[] u = (double[])current.Unit.Clone();
                for (int i = 0; i < n; i++)
                {
                    u[i] = Math.Clamp(u[i] + (sigma * Gaussian()), 0, 1);
                }

                u = Space.Snap(u);
                if (Distance(u, current.Unit) == 0)
                {
                    int i = Random.Next(n);
                    double move = Math.Max(sigma, Space.LatticeStep(i));
                    u[i] = Math.Clamp(u[i] + (u[i] + move <= 1 && (u[i] - move < 0 || Random.Next(2) == 0) ? move : -move), 0, 1);
                    u = Space.Snap(u);
                }

                yield return u;
                Trial next = Last;
                if (double.IsFinite(next.Score) && double.IsFinite(current.Score))
                {
                    spread = Math.Max(spread, Math.Abs(next.Score - current.Score));
                }

                double temperature = Math.Max(spread, 1e-12) * Math.Pow(1e-4, progress);
                bool accept = next.IsBetterThan(current)
                    || (next.IsFeasible && current.IsFeasible && Random.NextDouble() < Math.Exp(-(next.Score - current.Score) / temperature))
                    || (!next.IsFeasible && double.IsFinite(next.Violation) && Random.NextDouble() < Math.Exp(-(next.Violation - current.Violation) / Math.Pow(1e-4, progress)));
                if (accept)
                {
                    current = next;
                }

                if (next.IsBetterThan(best))
                {
                    best = next;
                }
            }
        }
    }

    private double Gaussian() => Math.Sqrt(-2 * Math.Log(1 - Random.NextDouble())) * Math.Cos(2 * Math.PI * Random.NextDouble());
}
