namespace Rto.Optimization.Optimizers;

/// <summary>
/// Nelder–Mead simplex with the dimension-adaptive coefficients of Gao and Han (2012), ranking
/// vertices feasibility first. Points are projected onto the box; whole-valued variables are rounded when
/// proposed (the simplex itself keeps the rounded points). Restarts once the simplex has collapsed.
/// </summary>
internal sealed class NelderMead(OptimizationProblem problem, int seed) : SequentialOptimizer(problem, seed)
{
    protected override IEnumerable<double[]> Steps()
    {
        int n = Space.Dimension;
        double reflect = 1, expand = 1 + (2.0 / n), contract = 0.75 - (1.0 / (2 * n)), shrink = 1 - (1.0 / n);
        if (n == 1)
        {
            (expand, contract, shrink) = (2, 0.5, 0.5);
        }

        for (int run = 0; ; run++)
        {
            double[] start = Space.Snap(run == 0 ? JitteredCentre(0.1) : RandomPoint());
            var simplex = new List<Trial>();
            yield return start;
            simplex.Add(Last);
            for (int i = 0; i < n; i++)
            {
                double[] u = (double[])start.Clone();
                double step = Math.Max(0.1, Space.LatticeStep(i));
                u[i] += u[i] + step <= 1 ? step : -step;
                yield return Space.Snap(u);
                simplex.Add(Last);
            }

            while (true)
            {
                simplex.Sort((a, b) => a.IsBetterThan(b) ? -1 : b.IsBetterThan(a) ? 1 : 0);
                double diameter = simplex.Skip(1).Max(t => Distance(t.Unit, simplex[0].Unit));
                if (diameter < 1e-9)
                {
                    break;
                }

                double[] centroid = new double[n];
                for (int v = 0; v < n; v++)
                {
                    for (int i = 0; i < n; i++)
                    {
                        centroid[i] += simplex[v].Unit[i] / n;
                    }
                }

                Trial worst = simplex[n];
                yield return Along(centroid, worst.Unit, -reflect);
                Trial reflected = Last;
                if (reflected.IsBetterThan(simplex[0]))
                {
                    yield return Along(centroid, worst.Unit, -reflect * expand);
                    simplex[n] = Last.IsBetterThan(reflected) ? Last : reflected;
                    continue;
                }

                if (reflected.IsBetterThan(simplex[n - 1]))
                {
                    simplex[n] = reflected;
                    continue;
                }

                bool outside = reflected.IsBetterThan(worst);
                yield return Along(centroid, worst.Unit, outside ? -reflect * contract : contract);
                Trial contracted = Last;
                if (contracted.IsBetterThan(outside ? reflected : worst) || (!outside && !worst.IsBetterThan(contracted)))
                {
                    simplex[n] = contracted;
                    continue;
                }

                for (int v = 1; v <= n; v++)
                {
                    yield return Along(simplex[0].Unit, simplex[v].Unit, shrink);
                    simplex[v] = Last;
                }
            }
        }
    }

    /// <summary>origin + t·(towards − origin), projected onto the box.</summary>
    private static double[] Along(double[] origin, double[] towards, double t)
    {
        var u = new double[origin.Length];
        for (int i = 0; i < u.Length; i++)
        {
            u[i] = Math.Clamp(origin[i] + (t * (towards[i] - origin[i])), 0, 1);
        }

        return u;
    }
}
