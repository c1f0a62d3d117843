namespace Rto.Optimization.Optimizers;

/// <summary>
/// The default method: a model-based trust-region search in the BOBYQA/COBYLA family. It starts with
/// the 2n+1 axis design around a seeded start, then each step fits models of the objective and of every
/// limited constraint to the nearest evaluations (full quadratic for up to <see cref="FullModelDimension"/>
/// variables, diagonal beyond; linear for an output the evaluations show to be exactly linear), minimises
/// the objective model subject to the constraint models inside the trust region (box ∞-norm, clipped to
/// the bounds) and evaluates that point. Feasibility-first acceptance; the radius grows after a good long
/// step and shrinks after a failure (or a geometry point is added when the model rests on too few nearby
/// points). Integer and Bool variables: lattice points are ranked by the models (see the Lattice part).
/// Converged runs restart from a random point, so Ask keeps proposing past the budget.
/// </summary>
internal sealed partial class TrustRegionOptimizer(OptimizationProblem problem, int seed) : SequentialOptimizer(problem, seed)
{
    /// <summary>Full quadratic models up to this many free variables; diagonal ones (2n+1 terms) beyond, so a step stays cheap.</summary>
    internal const int FullModelDimension = 12;

    private const double InitialRadius = 0.15;
    private const double MaxRadius = 0.5;
    private const double MinRadius = 1e-9;
    private const int MaxEnumerated = 4096;

    // A trial outside the limits by at most this total (scaled) violation, with a better objective, becomes the centre.
    private const double NearlyFeasible = 1e-2;

    // Re-proposals in the same region after better-but-infeasible trials, before the usual geometry point or shrinking.
    private const int MaxCorrections = 2;

    private static readonly int[] Signs = [1, -1];

    // A fit of m points and T terms costs about min(m, T)²·max(m, T) multiply-adds; this caps it (about
    // 10 ms), which only binds beyond ~150 variables: the model then rests on the nearest points it can afford.
    private const double MaxFitWork = 1e7;

    private readonly TrustRegionSubproblem _subproblem = new();
    private ModelSet? _local;
    private ModelSet? _global;
    private double[] _d = [];
    private double[] _starts = [];
    private double[] _step = [];
    private double[] _axisPoints = [];
    private double[] _gaps = [];

    private int N => Space.Dimension;

    private ModelShape Shape => N <= FullModelDimension ? ModelShape.Full : ModelShape.Diagonal;

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
            int corrections = 0;
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
                    corrections = 0;
                }
                else if (!trial.IsFeasible && trial.Violation <= NearlyFeasible && trial.Score < centre.Score)
                {
                    // Better, and outside the limits by a hair (a curved limit the model put a little too far): the
                    // search moves there with a smaller region, and the next step aims inside by twice the excess
                    // (see FitModels), instead of circling the old centre with geometry points.
                    centre = trial;
                    radius *= 0.5;
                }
                else if (!trial.IsFeasible && double.IsFinite(trial.Violation) && proposal.PredictedViolation == 0 && trial.Score < centre.Score && corrections++ < MaxCorrections)
                {
                    // Better but outside a limit the model said it would keep: the models now include this point, so
                    // the same region is tried again before a geometry point or a smaller region.
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

    /// <summary>The start and, per coordinate, one step up and one down (clipped to the box; duplicates skipped).</summary>
    private IEnumerable<double[]> AxisDesign(double[] start, double radius)
    {
        double[] radii = Radii(radius);
        double[] centre = Space.Snap(start);
        if (!WasEvaluated(centre))
        {
            yield return centre;
        }

        // One point at a time: with many variables the design is long, and each Ask builds only its own point.
        for (int i = 0; i < N; i++)
        {
            foreach (int sign in Signs)
            {
                double[] u = (double[])centre.Clone();
                u[i] += sign * radii[i];
                if (u[i] > 1 || u[i] < 0)
                {
                    u[i] = centre[i] - (sign * radii[i]);
                }

                u = Space.Snap(u);
                if (!WasEvaluated(u))
                {
                    yield return u;
                }
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

    private double MaxLatticeStep()
    {
        double largest = 0;
        for (int i = 0; i < N; i++)
        {
            largest = Math.Max(largest, Space.LatticeStep(i));
        }

        return largest;
    }

    private static double ScaledDistance(double[] a, double[] b, double[] radii)
    {
        double max = 0;
        for (int i = 0; i < a.Length; i++)
        {
            max = Math.Max(max, Math.Abs(a[i] - b[i]) / radii[i]);
        }

        return max;
    }

    /// <summary>Where the last 1000 evaluations start: what a local model looks at, so a step's cost stays bounded in very long sessions.</summary>
    private int RecentStart => Math.Max(0, History.Count - 1000);

    private int NearCount(Trial centre, double[] radii)
    {
        int near = 0;
        for (int k = RecentStart; k < History.Count; k++)
        {
            Trial t = History[k];
            if (double.IsFinite(t.Score) && ScaledDistance(t.Unit, centre.Unit, radii) <= 1.000001)
            {
                near++;
            }
        }

        return near;
    }

    private Proposal? Propose(Trial centre, double[] radii)
    {
        ModelSet models = FitModels(_local ??= new ModelSet(), centre, radii);
        int n = N;
        double[] bounds = new double[2 * n];
        for (int i = 0; i < n; i++)
        {
            bounds[i] = Math.Max(-1, -centre.Unit[i] / radii[i]);
            bounds[n + i] = Math.Min(1, (1 - centre.Unit[i]) / radii[i]);
        }

        // A convex subproblem has one minimum: the centre is start enough. Otherwise three random points of the region too.
        // Diagonal models (many variables) take the centre only: their non-convexity is mostly unmeasured curvature.
        int startCount = Shape == ModelShape.Diagonal || _subproblem.IsConvex(models.Objective, models.Constraints) ? 1 : 4;
        Grow(ref _starts, startCount * n);
        Grow(ref _step, n);
        Array.Clear(_starts, 0, n);
        for (int s = 1; s < startCount; s++)
        {
            for (int i = 0; i < n; i++)
            {
                _starts[(s * n) + i] = bounds[i] + (Random.NextDouble() * (bounds[n + i] - bounds[i]));
            }
        }

        _subproblem.Solve(models.Objective, models.Constraints, bounds.AsSpan(0, n), bounds.AsSpan(n, n), _starts.AsSpan(0, startCount * n), startCount, _step);
        var unit = new double[n];
        for (int i = 0; i < n; i++)
        {
            unit[i] = centre.Unit[i] + (radii[i] * _step[i]);
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

        double smallest = double.PositiveInfinity;
        foreach (double r in radii)
        {
            smallest = Math.Min(smallest, r);
        }

        return WasEvaluated(snapped, 1e-7 * smallest) ? null : ToProposal(snapped, centre, radii, models);
    }

    private Proposal ToProposal(double[] unit, Trial centre, double[] radii, ModelSet models)
    {
        (double violation, double score) = Predict(unit, centre, radii, models);
        double length = 0;
        for (int i = 0; i < unit.Length; i++)
        {
            length = Math.Max(length, Math.Abs(unit[i] - centre.Unit[i]) / radii[i]);
        }

        return new Proposal(unit, models.Objective.Constant - score, length, violation, score);
    }

    /// <summary>The point in the trust region's scaled coordinates (a shared buffer, valid until the next call).</summary>
    private Span<double> Scaled(double[] unit, Trial centre, double[] radii)
    {
        Grow(ref _d, N);
        Span<double> d = _d.AsSpan(0, N);
        for (int i = 0; i < d.Length; i++)
        {
            d[i] = (unit[i] - centre.Unit[i]) / radii[i];
        }

        return d;
    }

    /// <summary>Aim a hair inside each limit so a point on an active constraint evaluates as feasible despite rounding.</summary>
    private static double Margin(double limit, double scale) => 1e-8 * (1 + Math.Abs(limit)) / scale;

    /// <summary>Model-predicted (violation, objective) of a unit point, violation scaled as in <see cref="Feasibility"/>.</summary>
    private (double Violation, double Score) Predict(double[] unit, Trial centre, double[] radii, ModelSet models)
    {
        Span<double> d = Scaled(unit, centre, radii);
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
        // The distance from an evaluation to the axis point moved along i is the larger of its distance along
        // i and its largest distance along any other axis: with each evaluation's two largest per-axis
        // distances, all 2n axis points are measured in one pass over each evaluation, O(n) per evaluation.
        int n = N, from = RecentStart;
        Grow(ref _axisPoints, 2 * n);
        Grow(ref _gaps, 2 * n);
        for (int i = 0; i < n; i++)
        {
            _axisPoints[2 * i] = Space.SnapCoordinate(i, centre.Unit[i] + radii[i]);
            _axisPoints[(2 * i) + 1] = Space.SnapCoordinate(i, centre.Unit[i] - radii[i]);
        }

        Array.Fill(_gaps, double.PositiveInfinity, 0, 2 * n);
        for (int k = from; k < History.Count; k++)
        {
            double[] t = History[k].Unit;
            (double first, int axis, double second) = (0, -1, 0);
            for (int j = 0; j < n; j++)
            {
                double a = Math.Abs(t[j] - centre.Unit[j]) / radii[j];
                if (a > first)
                {
                    (second, first, axis) = (first, a, j);
                }
                else if (a > second)
                {
                    second = a;
                }
            }

            for (int i = 0; i < n; i++)
            {
                double others = axis == i ? second : first;
                for (int side = 0; side < 2; side++)
                {
                    double gap = Math.Max(others, Math.Abs(t[i] - _axisPoints[(2 * i) + side]) / radii[i]);
                    _gaps[(2 * i) + side] = Math.Min(_gaps[(2 * i) + side], gap);
                }
            }
        }

        int best = -1;
        double bestGap = 0;
        for (int a = 0; a < 2 * n; a++)
        {
            if (_gaps[a] > 1e-6 && _gaps[a] > bestGap)
            {
                (best, bestGap) = (a, _gaps[a]);
            }
        }

        if (best < 0)
        {
            return null;
        }

        double[] point = (double[])centre.Unit.Clone();
        point[best / 2] = _axisPoints[best];
        return point;
    }

    private static void Grow(ref double[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new double[length];
        }
    }
}
