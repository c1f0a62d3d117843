namespace Rto.Optimization.Optimizers;

/// <summary>A modelled constraint limit as g(d) ≤ 0 with g(d) = Sign·(model(d) − Limit) / Scale + Margin.</summary>
internal readonly record struct ModelConstraint(QuadraticModel Model, double Sign, double Limit, double Scale, double Margin)
{
    public double Value(ReadOnlySpan<double> d) => (Sign * (Model.Value(d) - Limit) / Scale) + Margin;
}

/// <summary>
/// Minimises the objective model inside the trust region (a box in scaled coordinates, clipped to the
/// bounds) subject to the modelled constraint limits, by sequential quadratic programming: each round
/// linearises the constraint models at the current point and solves the quadratic program with
/// <see cref="ActiveSetQp"/>; when the models put no feasible point in the region, the total violation
/// is minimised first (feasibility first, as everywhere). Linear constraint models — an LP or a QP —
/// are solved exactly in one round; curved ones take a few, with an ℓ1 merit line search. A non-convex
/// subproblem is solved from several starts. Allocation-free once its workspace has grown.
/// </summary>
internal sealed class TrustRegionSubproblem
{
    private const int MaxRounds = 8;

    private readonly ActiveSetQp _qp = new();
    private readonly ActiveSetQp _phaseOne = new();
    private double[] _d = [];
    private double[] _step = [];
    private double[] _trial = [];
    private double[] _best = [];
    private double[] _multipliers = [];
    private double[] _work = [];
    private double[] _point = [];

    /// <summary>True when the objective and every constraint model are convex (then one start finds the minimum).</summary>
    public bool IsConvex(QuadraticModel objective, IReadOnlyList<ModelConstraint> constraints)
    {
        Grow(ref _work, objective.Shape == ModelShape.Full ? objective.N * objective.N : objective.N);
        if (!objective.IsConvex(1, _work))
        {
            return false;
        }

        foreach (ModelConstraint c in constraints)
        {
            if (!c.Model.IsConvex(c.Sign, _work))
            {
                return false;
            }
        }

        return true;
    }

    /// <summary>
    /// The best point (feasibility first, then objective) over the starts (row-major, <paramref name="startCount"/> × n,
    /// each projected into the box) written into <paramref name="result"/>.
    /// </summary>
    public void Solve(QuadraticModel objective, IReadOnlyList<ModelConstraint> constraints, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper, ReadOnlySpan<double> starts, int startCount, Span<double> result)
    {
        int n = objective.N;
        Grow(ref _d, n);
        Grow(ref _step, n);
        Grow(ref _trial, n);
        Grow(ref _best, n);
        Grow(ref _multipliers, constraints.Count);
        double scale = Math.Max(objective.Magnitude, 1e-300);
        bool found = false;
        double bestValue = 0, bestViolation = 0;
        for (int s = 0; s < startCount; s++)
        {
            Span<double> d = _d.AsSpan(0, n);
            for (int i = 0; i < n; i++)
            {
                d[i] = Math.Clamp(starts[(s * n) + i], lower[i], upper[i]);
            }

            Local(objective, scale, constraints, lower, upper, d);
            double value = objective.Value(d);
            double violation = MaxViolation(constraints, d);
            violation = violation <= 1e-9 ? 0 : violation;
            if (!found || Feasibility.IsBetter(false, value, violation, bestValue, bestViolation))
            {
                (found, bestValue, bestViolation) = (true, value, violation);
                d.CopyTo(_best);
            }
        }

        _best.AsSpan(0, n).CopyTo(result);
    }

    private void Local(QuadraticModel objective, double scale, IReadOnlyList<ModelConstraint> constraints, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper, Span<double> d)
    {
        int n = d.Length, count = constraints.Count;
        Span<double> multipliers = _multipliers.AsSpan(0, count);
        multipliers.Clear();
        bool curved = false;
        foreach (ModelConstraint c in constraints)
        {
            curved |= !c.Model.IsLinear;
        }

        double penalty = 0;
        for (int round = 0; round < MaxRounds; round++)
        {
            BuildQp(objective, scale, constraints, multipliers, lower, upper, d);
            Span<double> p = _step.AsSpan(0, n);
            p.Clear();
            FeasibleStart(p);

            _qp.Solve(p, Math.Min(50 + (5 * (n + count)), 500));
            if (!curved)
            {
                // Linear constraint models: the quadratic program was the subproblem itself.
                for (int i = 0; i < n; i++)
                {
                    d[i] = Math.Clamp(d[i] + p[i], lower[i], upper[i]);
                }

                return;
            }

            // Curved constraints: the step from their linearisation is checked on the ℓ1 merit of the models themselves.
            double largest = 0;
            for (int j = 0; j < count; j++)
            {
                largest = Math.Max(largest, _qp.Multipliers[j]);
            }

            penalty = Math.Max(penalty, (1.5 * largest) + 1e-6);
            double merit = Merit(objective, scale, constraints, penalty, d);
            Span<double> trial = _trial.AsSpan(0, n);
            double t = 1;
            bool accepted = false;
            for (int halving = 0; halving < 12 && !accepted; halving++, t *= 0.5)
            {
                for (int i = 0; i < n; i++)
                {
                    trial[i] = Math.Clamp(d[i] + (t * p[i]), lower[i], upper[i]);
                }

                accepted = Merit(objective, scale, constraints, penalty, trial) < merit;
            }

            if (!accepted)
            {
                return;
            }

            double moved = 0;
            for (int i = 0; i < n; i++)
            {
                moved = Math.Max(moved, Math.Abs(trial[i] - d[i]));
            }

            trial.CopyTo(d);
            _qp.Multipliers.AsSpan(0, count).CopyTo(multipliers);
            if (moved <= 1e-12)
            {
                return;
            }
        }
    }

    /// <summary>The quadratic program of one round, in the step p from d: the objective's model and the linearised constraints.</summary>
    private void BuildQp(QuadraticModel objective, double scale, IReadOnlyList<ModelConstraint> constraints, ReadOnlySpan<double> multipliers, ReadOnlySpan<double> lower, ReadOnlySpan<double> upper, ReadOnlySpan<double> d)
    {
        int n = d.Length, count = constraints.Count;
        bool dense = objective.Shape == ModelShape.Full;
        _qp.Reset(n, count, dense);
        objective.AddCurvature(1 / scale, _qp.Hessian, dense);
        objective.AddGradientAt(d, 1 / scale, _qp.Linear);
        for (int i = 0; i < n; i++)
        {
            _qp.Lower[i] = lower[i] - d[i];
            _qp.Upper[i] = upper[i] - d[i];
        }

        for (int j = 0; j < count; j++)
        {
            ModelConstraint c = constraints[j];
            double factor = c.Sign / c.Scale;
            if (multipliers[j] > 0)
            {
                c.Model.AddCurvature(multipliers[j] * factor, _qp.Hessian, dense);
            }

            Span<double> row = _qp.Rows.AsSpan(j * n, n);
            row.Clear();
            c.Model.AddGradientAt(d, factor, row);
            _qp.Limits[j] = -c.Value(d);
        }
    }

    /// <summary>
    /// p = 0 satisfies the box; when it breaks linearised limits, the least total violation reachable in the
    /// box (an LP with one elastic variable per broken limit) is found and those limits are relaxed to it.
    /// </summary>
    private void FeasibleStart(Span<double> p)
    {
        int n = _qp.N, count = _qp.Count, broken = 0;
        for (int j = 0; j < count; j++)
        {
            broken += _qp.Limits[j] < 0 ? 1 : 0;
        }

        if (broken == 0)
        {
            return;
        }

        int width = n + broken;
        _phaseOne.Reset(width, count, dense: false);
        Grow(ref _point, width);
        double[] point = _point;
        Array.Clear(point, 0, width);
        for (int i = 0; i < n; i++)
        {
            _phaseOne.Lower[i] = _qp.Lower[i];
            _phaseOne.Upper[i] = _qp.Upper[i];
        }

        int elastic = n;
        for (int j = 0; j < count; j++)
        {
            Span<double> row = _phaseOne.Rows.AsSpan(j * width, width);
            row.Clear();
            _qp.Rows.AsSpan(j * n, n).CopyTo(row);
            _phaseOne.Limits[j] = _qp.Limits[j];
            if (_qp.Limits[j] < 0)
            {
                double norm = Math.Sqrt(Cholesky.Dot(row[..n], row[..n]));
                row[elastic] = -1;
                _phaseOne.Lower[elastic] = 0;
                _phaseOne.Upper[elastic] = -_qp.Limits[j];
                _phaseOne.Linear[elastic] = 1 / Math.Max(norm, 1e-300);
                point[elastic] = -_qp.Limits[j];
                elastic++;
            }
        }

        _phaseOne.Solve(point.AsSpan(0, width), Math.Min(50 + (5 * (width + count)), 500));
        for (int i = 0; i < n; i++)
        {
            p[i] = Math.Clamp(point[i], _qp.Lower[i], _qp.Upper[i]);
        }

        for (int j = 0; j < count; j++)
        {
            double reached = Cholesky.Dot(_qp.Rows.AsSpan(j * n, n), p);
            if (reached > _qp.Limits[j])
            {
                _qp.Limits[j] = reached;
            }
        }
    }

    private static double Merit(QuadraticModel objective, double scale, IReadOnlyList<ModelConstraint> constraints, double penalty, ReadOnlySpan<double> d)
    {
        double merit = objective.Value(d) / scale;
        foreach (ModelConstraint c in constraints)
        {
            merit += penalty * Math.Max(0, c.Value(d));
        }

        return merit;
    }

    private static double MaxViolation(IReadOnlyList<ModelConstraint> constraints, ReadOnlySpan<double> d)
    {
        double violation = 0;
        foreach (ModelConstraint c in constraints)
        {
            violation = Math.Max(violation, c.Value(d) - c.Margin);
        }

        return violation;
    }

    private static void Grow(ref double[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new double[length];
        }
    }
}
