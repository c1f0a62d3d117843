namespace Rto.Optimization.Optimizers;

/// <summary>The trust region's handling of Integer and Bool variables: ranking lattice points by the models.</summary>
internal sealed partial class TrustRegionOptimizer
{
    /// <summary>The best unevaluated point (by model prediction) whose whole-valued coordinates lie inside the trust region; numeric ones from <paramref name="relaxed"/>.</summary>
    private Proposal? BestLatticePoint(Trial centre, double[] relaxed, double[] radii, ModelSet models)
    {
        int[] discrete = [.. Enumerable.Range(0, N).Where(Space.IsDiscrete)];
        int[] reach = [.. discrete.Select(i => (int)Math.Floor((radii[i] / Space.LatticeStep(i)) + 1e-9))];
        return BestPredicted(LatticePoints(centre, relaxed, discrete, [.. reach.Select(r => -r)], reach).Prepend(relaxed), centre, radii, models);
    }

    /// <summary>
    /// When the local models see no better lattice point nearby, a model fitted to every evaluation with
    /// equal weight ranks the whole lattice: a whole-number local optimum is often not the global one, and
    /// a quadratic fitted to a few dozen points can see past it. Null unless it predicts an improvement.
    /// </summary>
    private Proposal? GlobalLatticePoint(Trial centre)
    {
        double[] unitRadii = [.. Enumerable.Repeat(1.0, N)];
        ModelSet models = FitModels(_global ??= new ModelSet(), centre, unitRadii, 10 * LeastSquaresDesign.Terms(N, Shape));
        int[] discrete = [.. Enumerable.Range(0, N).Where(Space.IsDiscrete)];
        int[] low = [.. discrete.Select(i => -(int)Math.Round(centre.Unit[i] / Space.LatticeStep(i)))];
        int[] high = [.. discrete.Select(i => (int)Math.Round((1 - centre.Unit[i]) / Space.LatticeStep(i)))];
        Proposal? best = BestPredicted(LatticePoints(centre, centre.Unit, discrete, low, high), centre, unitRadii, models);
        return best is not null && PredictsImprovement(best, centre) ? best : null;
    }

    private static bool PredictsImprovement(Proposal proposal, Trial centre) =>
        Feasibility.IsBetter(false, proposal.PredictedScore, proposal.PredictedViolation, centre.Score, centre.Violation);

    /// <summary>
    /// Points whose whole-valued coordinates are the centre's moved by every offset combination in [low, high]; a
    /// seeded sample when there are too many. Each point is yielded in the same buffer (a consumer copies what it keeps).
    /// </summary>
    private IEnumerable<double[]> LatticePoints(Trial centre, double[] relaxed, int[] discrete, int[] low, int[] high)
    {
        double total = 1.0;
        for (int k = 0; k < discrete.Length; k++)
        {
            total *= high[k] - low[k] + 1;
        }

        var offset = new int[discrete.Length];
        double[] unit = new double[relaxed.Length];
        for (int s = 0; s < Math.Min(total, MaxEnumerated); s++)
        {
            long rest = s;
            for (int k = 0; k < discrete.Length; k++)
            {
                int side = high[k] - low[k] + 1;
                offset[k] = total > MaxEnumerated ? Random.Next(low[k], high[k] + 1) : (int)(rest % side) + low[k];
                rest /= side;
            }

            relaxed.CopyTo(unit, 0);
            for (int k = 0; k < discrete.Length; k++)
            {
                unit[discrete[k]] = centre.Unit[discrete[k]] + (offset[k] * Space.LatticeStep(discrete[k]));
            }

            yield return unit;
        }
    }

    private Proposal? BestPredicted(IEnumerable<double[]> candidates, Trial centre, double[] radii, ModelSet models)
    {
        double[]? best = null;
        (double Violation, double Score) bestPrediction = default;
        double[] candidate = new double[Space.Variables], unit = new double[N];
        foreach (double[] point in candidates)
        {
            if (!IsInBox(point))
            {
                continue;
            }

            // Space.Snap into buffers: the arrays are made only for a new best point.
            Space.ToCandidate(point, candidate);
            Space.ToUnit(candidate, unit);
            if (WasEvaluatedExactly(unit))
            {
                continue;
            }

            var prediction = Predict(unit, centre, radii, models);
            if (best is null || Feasibility.IsBetter(false, prediction.Score, prediction.Violation, bestPrediction.Score, bestPrediction.Violation))
            {
                best ??= new double[N];
                unit.CopyTo(best, 0);
                bestPrediction = prediction;
            }
        }

        return best is null ? null : ToProposal(best, centre, radii, models);
    }

    private static bool IsInBox(double[] point)
    {
        foreach (double v in point)
        {
            if (v < -1e-12 || v > 1 + 1e-12)
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The best unevaluated point (by model prediction) whose whole-valued coordinates lie in the
    /// smallest lattice shell around the centre that still has one; numeric coordinates from <paramref name="relaxed"/>.
    /// </summary>
    private Proposal? Neighbour(Trial centre, double[] relaxed, double[] radii, ModelSet models)
    {
        int[] discrete = [.. Enumerable.Range(0, N).Where(Space.IsDiscrete)];
        int widest = (int)Math.Round(1 / discrete.Min(Space.LatticeStep));
        for (int shell = 1; shell <= widest; shell++)
        {
            IEnumerable<double[]> candidates = ShellOffsets(discrete.Length, shell).Select(offset =>
            {
                double[] unit = (double[])relaxed.Clone();
                for (int k = 0; k < discrete.Length; k++)
                {
                    unit[discrete[k]] = centre.Unit[discrete[k]] + (offset[k] * Space.LatticeStep(discrete[k]));
                }

                return unit;
            });
            if (BestPredicted(candidates, centre, radii, models) is { } proposal)
            {
                return proposal;
            }
        }

        return null;
    }

    /// <summary>Integer offsets with largest magnitude exactly <paramref name="shell"/>; a seeded sample when there are too many.</summary>
    private IEnumerable<int[]> ShellOffsets(int count, int shell)
    {
        int side = (2 * shell) + 1;
        double total = Math.Pow(side, count);
        if (total > MaxEnumerated)
        {
            for (int s = 0; s < MaxEnumerated; s++)
            {
                int[] offset = [.. Enumerable.Range(0, count).Select(_ => Random.Next(-shell, shell + 1))];
                offset[Random.Next(count)] = Random.Next(2) == 0 ? -shell : shell;
                yield return offset;
            }

            yield break;
        }

        var current = new int[count];
        for (long index = 0; index < (long)total; index++)
        {
            long rest = index;
            int largest = 0;
            for (int k = 0; k < count; k++)
            {
                current[k] = (int)(rest % side) - shell;
                rest /= side;
                largest = Math.Max(largest, Math.Abs(current[k]));
            }

            if (largest == shell)
            {
                yield return (int[])current.Clone();
            }
        }
    }
}
