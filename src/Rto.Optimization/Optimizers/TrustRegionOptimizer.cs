using MathNet.Numerics.LinearAlgebra;

namespace Rto.Optimization.Optimizers;

/// <summary>
/// The default method: a model-based trust-region search in the BOBYQA/COBYLA family. It starts with
/// the 2n+1 axis design around a seeded start, then each step fits quadratic models of the objective
/// and of every limited constraint to the nearest evaluations, minimises the objective model subject to the constraint
/// models inside the trust region (box ∞-norm, clipped to the bounds) and evaluates that point.
/// Feasibility-first acceptance; the radius grows after a good long step and shrinks after a failure
/// (or a geometry point is added when the model rests on too few nearby points).
/// Integer and Bool variables: the relaxation is optimised and rounded; their trust radius never drops below
/// one whole step, and when rounding lands on an evaluated point the best unevaluated lattice neighbour
/// (by model prediction) is tried, widening the neighbourhood until it is exhausted.
/// Converged runs restart from a random point, so Ask keeps proposing past the budget.
/// </summary>
internal sealed partial class TrustRegionOptimizer(OptimizationProblem problem, int seed) : SequentialOptimizer(problem, seed)
{
    private const double InitialRadius = 0.15;
    private const double MaxRadius = 0.5;
    private const double MinRadius = 1e-9;
    private const int MaxEnumerated = 4096;

    private int N => Space.Dimension;

    protected override IEnumerable<double[]> Steps()
    {
        for (int run = 0; ; run++)
        {
            int runStart = History.Count;
            double radius = InitialRadius;
            foreach (double[] point in AxisDesign(run == 0 ? JitteredCentre(0.1) : RandomPoint(), radius))
            {
                yield return point;
            }

            if (History.Count == runStart)
            {
                // Everything around the start was evaluated already (a small, exhausted lattice): re-evaluating a point is the only move left.
                yield return RandomPoint();
            }

            Trial? centre = BestSince(runStart);
            while (centre is not null && radius >= MinRadius)
            {
                double[] radii = Radii(radius);
                Proposal? proposal = Propose(centre, radii);
                if (proposal is null)
                {
                    if (Space.HasDiscrete && radius <= MaxLatticeStep())
                    {
                        break;
                    }

                    radius *= 0.5;
                    continue;
                }

                yield return proposal.Unit;
                Trial trial = Last;
                if (trial.IsBetterThan(centre))
                {
                    bool modelled = centre.IsFeasible && trial.IsFeasible && proposal.PredictedReduction > 0;
                    double ratio = modelled ? (centre.Score - trial.Score) / proposal.PredictedReduction : 1;
                    if (ratio < 0.1)
                    {
                        radius *= 0.5;
                    }
                    else if (ratio > 0.7 && proposal.StepLength > 0.9)
                    {
                        radius = Math.Min(2 * radius, MaxRadius);
                    }

                    centre = trial;
                }
                else if (NearCount(centre, radii) < (2 * N) + 1 && GeometryPoint(centre, radii) is { } geometry)
                {
                    yield return geometry;
                    if (Last.IsBetterThan(centre))
                    {
                        centre = Last;
                    }
                }
                else
                {
                    radius *= 0.5;
                }
            }
        }
    }

    private sealed record Proposal(double[] Unit, double PredictedReduction, double StepLength, double PredictedViolation, double PredictedScore);

    private sealed record Models(QuadraticModel Objective, List<ModelConstraint> Constraints, List<(int Cv, QuadraticModel Model)> Cvs);

    /// <summary>The start and, per coordinate, one step up and one down (clipped to the box; duplicates skipped).</summary>
    private IEnumerable<double[]> AxisDesign(double[] start, double radius)
    {
        double[] radii = Radii(radius);
        double[] centre = Space.Snap(start);
        var design = new List<double[]> { centre };
        for (int i = 0; i < N; i++)
        {
            foreach (int sign in new[] { 1, -1 })
            {
                double[] u = (double[])centre.Clone();
                u[i] += sign * radii[i];
                if (u[i] > 1 || u[i] < 0)
                {
                    u[i] = centre[i] - (sign * radii[i]);
                }

                design.Add(Space.Snap(u));
            }
        }

        foreach (double[] u in design)
        {
            if (!WasEvaluated(u))
            {
                yield return u;
            }
        }
    }

    private double[] Radii(double radius)
    {
        var radii = new double[N];
        for (int i = 0; i < N; i++)
        {
            radii[i] = Math.Max(radius, Space.LatticeStep(i));
        }

        return radii;
    }

    private double MaxLatticeStep() => Enumerable.Range(0, N).Max(Space.LatticeStep);

    private static double ScaledDistance(double[] a, double[] b, double[] radii)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]) / radii[i]);
        }

        return max;
    }

    private int NearCount(Trial centre, double[] radii) =>
        Recent().Count(t => double.IsFinite(t.Score) && ScaledDistance(t.Unit, centre.Unit, radii) <= 1.000001);

    private Proposal? Propose(Trial centre, double[] radii)
    {
        Models models = FitModels(centre, radii);
        var lower = Vector<double>.Build.Dense(N, i => Math.Max(-1, -centre.Unit[i] / radii[i]));
        var upper = Vector<double>.Build.Dense(N, i => Math.Min(1, (1 - centre.Unit[i]) / radii[i]));
        var starts = new List<Vector<double>> { Vector<double>.Build.Dense(N) };
        for (int s = 0; s < 3; s++)
        {
            starts.Add(Vector<double>.Build.Dense(N, i => lower[i] + (Random.NextDouble() * (upper[i] - lower[i]))));
        }

        Vector<double> step = TrustRegionSubproblem.Solve(models.Objective, models.Constraints, lower, upper, starts);
        var unit = new double[N];
        for (int i = 0; i < N; i++)
        {
            unit[i] = centre.Unit[i] + (radii[i] * step[i]);
        }

        double[] snapped = Space.Snap(unit);
        if (Space.HasDiscrete)
        {
            // Rounding the relaxed optimum is a poor guess for whole numbers: rank every lattice point of the trust region by the models.
            Proposal? local = BestLatticePoint(centre, snapped, radii, models);
            if ((local is null || !PredictsImprovement(local, centre)) && GlobalLatticePoint(centre) is { } global)
            {
                return global;
            }

            return local ?? Neighbour(centre, snapped, radii, models);
        }

        return WasEvaluated(snapped, 1e-7 * radii.Min()) ? null : ToProposal(snapped, centre, radii, models);
    }

    private Proposal ToProposal(double[] unit, Trial centre, double[] radii, Models models)
    {
        Vector<double> d = Scaled(unit, centre, radii);
        (double violation, double score) = Predict(unit, centre, radii, models);
        return new Proposal(unit, models.Objective.Value(Vector<double>.Build.Dense(N)) - score, d.InfinityNorm(), violation, score);
    }

    private Vector<double> Scaled(double[] unit, Trial centre, double[] radii) =>
        Vector<double>.Build.Dense(N, i => (unit[i] - centre.Unit[i]) / radii[i]);

    private Models FitModels(Trial centre, double[] radii, int? count = null)
    {
        int terms = 1 + (2 * N) + (N * (N - 1) / 2);
        // As many nearest points as a full quadratic has terms: more (farther) points blur the local curvature (Rosenbrock median 44 → 70 evaluations with twice as many).
        List<Trial> near = [.. Recent().OrderBy(t => ScaledDistance(t.Unit, centre.Unit, radii)).Take(count ?? Math.Max(terms, (2 * N) + 1))];

        // A failed evaluation counts as the worst value seen nearby, so the model steers away from where the plant trips.
        double worst = near.Where(t => double.IsFinite(t.Score)).Select(t => t.Score).DefaultIfEmpty(0).Max();
        var points = near.Select(t => Scaled(t.Unit, centre, radii).ToArray()).ToList();
        var weights = near.Select(t =>
        {
            double s = ScaledDistance(t.Unit, centre.Unit, radii);
            return s <= 1 ? 1 : 1 / (s * s * s);
        }).ToList();
        QuadraticModel.Design design = QuadraticModel.Factor(points, weights, N);
        QuadraticModel objective = QuadraticModel.Fit(design, [.. near.Select(t => double.IsFinite(t.Score) ? t.Score : worst)]);

        var constraints = new List<ModelConstraint>();
        var cvModels = new List<(int, QuadraticModel)>();
        for (int j = 0; j < Problem.Constraints.Count; j++)
        {
            Constraint cv = Problem.Constraints[j];
            if (!cv.HasLower && !cv.HasUpper)
            {
                continue;
            }

            var rows = Enumerable.Range(0, near.Count).Where(r => j < near[r].Cvs.Length && double.IsFinite(near[r].Cvs[j])).ToList();
            if (rows.Count == 0)
            {
                continue;
            }

            // Measured at every point (the usual case): the objective's factorisation serves this constraint too.
            QuadraticModel model = rows.Count == near.Count
                ? QuadraticModel.Fit(design, [.. rows.Select(r => near[r].Cvs[j])])
                : QuadraticModel.Fit([.. rows.Select(r => points[r])], [.. rows.Select(r => near[r].Cvs[j])], [.. rows.Select(r => weights[r])], N);
            cvModels.Add((j, model));
            double scale = Math.Max(model.Magnitude, 1e-300);

            // A limit the model cannot reach anywhere in the trust region leaves the subproblem's
            // feasible set unchanged, so it is left out: far from every limit (the usual case) the
            // step is then the cheap unconstrained one.
            double reach = model.Reach;
            if (cv.HasUpper && model.Constant + reach >= cv.Upper)
            {
                constraints.Add(new ModelConstraint(model, 1, cv.Upper, scale, Margin(cv.Upper, scale)));
            }

            if (cv.HasLower && model.Constant - reach <= cv.Lower)
            {
                constraints.Add(new ModelConstraint(model, -1, cv.Lower, scale, Margin(cv.Lower, scale)));
            }
        }

        return new Models(objective, constraints, cvModels);
    }

    /// <summary>Aim a hair inside each limit so a point on an active constraint evaluates as feasible despite rounding.</summary>
    private static double Margin(double limit, double scale) => 1e-8 * (1 + Math.Abs(limit)) / scale;

    /// <summary>Model-predicted (violation, objective) of a unit point, violation scaled as in <see cref="Feasibility"/>.</summary>
    private (double Violation, double Score) Predict(double[] unit, Trial centre, double[] radii, Models models)
    {
        Vector<double> d = Scaled(unit, centre, radii);
        double violation = 0;
        foreach ((int j, QuadraticModel model) in models.Cvs)
        {
            Constraint cv = Problem.Constraints[j];
            double value = model.Value(d);
            double scale = cv.HasLower && cv.HasUpper && cv.Upper > cv.Lower ? cv.Upper - cv.Lower : 1;
            violation += cv.HasLower && value < cv.Lower ? (cv.Lower - value) / scale
                : cv.HasUpper && value > cv.Upper ? (value - cv.Upper) / scale : 0;
        }

        return (violation <= 1e-9 ? 0 : violation, models.Objective.Value(d));
    }

    /// <summary>The unevaluated axis point around the centre farthest from the evaluations already near it.</summary>
    private double[]? GeometryPoint(Trial centre, double[] radii)
    {
        double[]? best = null;
        double bestGap = 0;
        for (int i = 0; i < N; i++)
        {
            foreach (int sign in new[] { 1, -1 })
            {
                double[] u = (double[])centre.Unit.Clone();
                u[i] += sign * radii[i];
                u = Space.Snap(u);
                double gap = Recent().Min(t => ScaledDistance(t.Unit, u, radii));
                if (gap > 1e-6 && gap > bestGap)
                {
                    (best, bestGap) = (u, gap);
                }
            }
        }

        return best;
    }
}
