namespace Rto.Optimization.Optimizers;

/// <summary>
/// Compass (pattern) search, the automated form of plant step testing (<c>TestStepOpt</c>): step one variable
/// up or down at a time, move to the first step that improves (feasibility first) and try that
/// direction first next time; halve the step when no direction improves. Whole-valued variables step by at
/// least one. Restarts from a random point once the step is negligible.
/// </summary>
internal sealed class PatternSearch(OptimizationProblem problem, int seed) : SequentialOptimizer(problem, seed)
{
    private const double InitialStep = 0.25;
    private const double MinStep = 1e-9;

    protected override IEnumerable<double[]> Steps()
    {
        for (int run = 0; ; run++)
        {
            double[] start = Space.Snap(run == 0 ? JitteredCentre(0.1) : RandomPoint());
            yield return start;
            Trial centre = Last;
            double step = InitialStep;
            List<(int Dimension, int Sign)> directions = [.. Enumerable.Range(0, Space.Dimension).SelectMany(i => new[] { (i, 1), (i, -1) })];
            Random.Shuffle(System.Runtime.InteropServices.CollectionsMarshal.AsSpan(directions));
            while (step >= MinStep)
            {
                bool improved = false;
                for (int k = 0; k < directions.Count && !improved; k++)
                {
                    (int i, int sign) = directions[k];
                    double[] u = (double[])centre.Unit.Clone();
                    u[i] += sign * Math.Max(step, Space.LatticeStep(i));
                    if (u[i] < -1e-12 || u[i] > 1 + 1e-12)
                    {
                        continue;
                    }

                    u = Space.Snap(u);
                    if (WasEvaluated(u, 1e-3 * step))
                    {
                        continue;
                    }

                    yield return u;
                    if (Last.IsBetterThan(centre))
                    {
                        centre = Last;
                        improved = true;
                        directions.RemoveAt(k);
                        directions.Insert(0, (i, sign));
                    }
                }

                if (!improved)
                {
                    bool latticeOnly = Enumerable.Range(0, Space.Dimension).All(i => Space.LatticeStep(i) >= step);
                    if (latticeOnly)
                    {
                        break;
                    }

                    step *= 0.5;
                }
            }
        }
    }
}
