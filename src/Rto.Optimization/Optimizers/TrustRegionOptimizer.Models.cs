namespace Rto.Optimization.Optimizers;

/// <summary>The trust region's models: which evaluations they rest on and how each output is fitted.</summary>
internal sealed partial class TrustRegionOptimizer
{
    // From a centre outside a limit, the next step aims inside it by this many times the excess: the models
    // put the limit a little too far, and aiming at it exactly would only creep up on it from outside.
    private const double Backoff = 2;

    /// <summary>
    /// Fits the objective and every limited constraint to the evaluations nearest the centre (as many as a
    /// model has terms, at least 2n+1; <paramref name="count"/> to ask for more), reusing <paramref name="set"/>'s
    /// models and workspace. Failed evaluations enter the objective as the worst value seen nearby.
    /// </summary>
    private ModelSet FitModels(ModelSet set, Trial centre, double[] radii, int? count = null)
    {
        int n = N, from = RecentStart, recent = History.Count - from;
        ModelShape shape = Shape;
        int terms = LeastSquaresDesign.Terms(n, shape);

        // As many nearest points as a model has terms: more (farther) points blur the local curvature
        // (Rosenbrock median 44 → 70 evaluations with twice as many). Capped so the fit's cost stays bounded.
        int want = count ?? Math.Max(terms, (2 * n) + 1);
        int m = Math.Min(recent, Math.Min(want, AffordablePoints(terms)));
        set.Prepare(n, shape, recent, m, Problem.Constraints.Count);

        Span<(double Distance, int Index)> order = set.Order.AsSpan(0, recent);
        for (int k = 0; k < recent; k++)
        {
            order[k] = (ScaledDistance(History[from + k].Unit, centre.Unit, radii), from + k);
        }

        SmallestFirst(order, m);
        double worst = double.NegativeInfinity;
        for (int r = 0; r < m; r++)
        {
            Trial t = History[order[r].Index];
            double s = order[r].Distance;
            set.Weights[r] = s <= 1 ? 1 : 1 / (s * s * s);
            for (int i = 0; i < n; i++)
            {
                set.Points[(r * n) + i] = (t.Unit[i] - centre.Unit[i]) / radii[i];
            }

            if (double.IsFinite(t.Score))
            {
                worst = Math.Max(worst, t.Score);
            }
        }

        worst = double.IsNegativeInfinity(worst) ? 0 : worst;
        for (int r = 0; r < m; r++)
        {
            double score = History[order[r].Index].Score;
            set.Values[r] = double.IsFinite(score) ? score : worst;
        }

        set.Quadratic.Factor(set.Points, set.Weights, m, n, shape);
        bool linearCheck = m >= (2 * n) + 1;
        if (linearCheck)
        {
            set.Linear.Factor(set.Points, set.Weights, m, n, ModelShape.Linear);
        }

        Fit(set, set.Quadratic, set.Linear, linearCheck, m, set.Objective);
        set.Constraints.Clear();
        set.Cvs.Clear();
        for (int j = 0; j < Problem.Constraints.Count; j++)
        {
            Constraint cv = Problem.Constraints[j];
            if (!cv.HasLower && !cv.HasUpper)
            {
                continue;
            }

            int measured = 0;
            for (int r = 0; r < m; r++)
            {
                double[] cvs = History[order[r].Index].Cvs;
                if (j < cvs.Length && double.IsFinite(cvs[j]))
                {
                    measured++;
                }
            }

            if (measured == 0)
            {
                continue;
            }

            QuadraticModel model = set.Cv(j);
            if (measured == m)
            {
                // Measured at every point (the usual case): the objective's factorisation serves this constraint too.
                for (int r = 0; r < m; r++)
                {
                    set.Values[r] = History[order[r].Index].Cvs[j];
                }

                Fit(set, set.Quadratic, set.Linear, linearCheck, m, model);
            }
            else
            {
                FitMeasured(set, j, m, model);
            }

            set.Cvs.Add((j, model));
            double scale = Math.Max(model.Magnitude, 1e-300);

            // A limit the model cannot reach anywhere in the trust region leaves the subproblem's
            // feasible set unchanged, so it is left out: far from every limit (the usual case) the
            // step is then the cheap unconstrained one.
            double reach = model.Reach;
            if (cv.HasUpper && model.Constant + reach >= cv.Upper)
            {
                double excess = j < centre.Cvs.Length && centre.Cvs[j] > cv.Upper ? centre.Cvs[j] - cv.Upper : 0;
                set.Constraints.Add(new ModelConstraint(model, 1, cv.Upper, scale, Margin(cv.Upper, scale) + (Backoff * excess / scale)));
            }

            if (cv.HasLower && model.Constant - reach <= cv.Lower)
            {
                double excess = j < centre.Cvs.Length && centre.Cvs[j] < cv.Lower ? cv.Lower - centre.Cvs[j] : 0;
                set.Constraints.Add(new ModelConstraint(model, -1, cv.Lower, scale, Margin(cv.Lower, scale) + (Backoff * excess / scale)));
            }
        }

        return set;
    }

    /// <summary>The most points a fit of <paramref name="terms"/> terms may use within <see cref="MaxFitWork"/> (m²·T below T points, m·T² above).</summary>
    internal static int AffordablePoints(int terms)
    {
        double kernel = Math.Sqrt(MaxFitWork / terms);
        return kernel < terms ? (int)kernel : (int)Math.Min(int.MaxValue, MaxFitWork / ((double)terms * terms));
    }

    /// <summary>
    /// Puts the <paramref name="m"/> smallest items first, sorted (the rest in no order): the same first m as a
    /// full sort, since (distance, index) pairs are all different, for O(R + m log m) instead of O(R log R).
    /// </summary>
    private static void SmallestFirst(Span<(double Distance, int Index)> items, int m)
    {
        int low = 0, high = items.Length - 1;
        while (m < items.Length && low < high)
        {
            // Quickselect with the middle element as pivot: deterministic, and near-sorted input stays cheap.
            (double Distance, int Index) pivot = items[low + ((high - low) / 2)];
            int i = low, j = high;
            while (i <= j)
            {
                while (Compare(items[i], pivot) < 0)
                {
                    i++;
                }

                while (Compare(items[j], pivot) > 0)
                {
                    j--;
                }

                if (i <= j)
                {
                    (items[i], items[j]) = (items[j], items[i]);
                    i++;
                    j--;
                }
            }

            if (m - 1 <= j)
            {
                high = j;
            }
            else if (m - 1 >= i)
            {
                low = i;
            }
            else
            {
                break;
            }
        }

        items[..m].Sort();
    }

    private static int Compare((double Distance, int Index) a, (double Distance, int Index) b)
    {
        int byDistance = a.Distance.CompareTo(b.Distance);
        return byDistance != 0 ? byDistance : a.Index.CompareTo(b.Index);
    }

    /// <summary>A constraint not measured at every near point (NaN values): its own design over the points where it was.</summary>
    private void FitMeasured(ModelSet set, int j, int m, QuadraticModel model)
    {
        int n = N, rows = 0;
        for (int r = 0; r < m; r++)
        {
            double[] cvs = History[set.Order[r].Index].Cvs;
            if (j < cvs.Length && double.IsFinite(cvs[j]))
            {
                set.Points.AsSpan(r * n, n).CopyTo(set.SubsetPoints.AsSpan(rows * n, n));
                set.SubsetWeights[rows] = set.Weights[r];
                set.Values[rows] = cvs[j];
                rows++;
            }
        }

        set.Subset.Factor(set.SubsetPoints, set.SubsetWeights, rows, n, Shape);
        bool linearCheck = rows >= (2 * n) + 1;
        if (linearCheck)
        {
            set.SubsetLinear.Factor(set.SubsetPoints, set.SubsetWeights, rows, n, ModelShape.Linear);
        }

        Fit(set, set.Subset, set.SubsetLinear, linearCheck, rows, model, set.SubsetPoints);
    }

    /// <summary>
    /// An output the evaluations show to be exactly linear (a linear fit reproduces every value to
    /// rounding, on at least the 2n+1 points that reveal curvature along every axis) gets the linear model:
    /// a plant model built from step responses is linear, and its limits can then be aimed at exactly.
    /// Anything else gets the quadratic fit.
    /// </summary>
    private static void Fit(ModelSet set, LeastSquaresDesign quadratic, LeastSquaresDesign linear, bool linearCheck, int m, QuadraticModel model, double[]? points = null)
    {
        ReadOnlySpan<double> values = set.Values.AsSpan(0, m);
        if (linearCheck)
        {
            linear.Fit(values, model);
            double low = double.PositiveInfinity, high = double.NegativeInfinity, error = 0;
            ReadOnlySpan<double> at = (points ?? set.Points).AsSpan(0, m * model.N);
            for (int r = 0; r < m; r++)
            {
                low = Math.Min(low, values[r]);
                high = Math.Max(high, values[r]);
                error = Math.Max(error, Math.Abs(model.Value(at.Slice(r * model.N, model.N)) - values[r]));
            }

            if (error <= (1e-9 * (high - low)) + (1e-13 * Math.Max(Math.Abs(low), Math.Abs(high))))
            {
                return;
            }
        }

        quadratic.Fit(values, model);
    }

    /// <summary>One set of fitted models and the workspace to fit them again: the local models and, for the lattice search, the global ones.</summary>
    private sealed class ModelSet
    {
        private QuadraticModel?[] _cvModels = [];

        public LeastSquaresDesign Quadratic { get; } = new();

        public LeastSquaresDesign Linear { get; } = new();

        public LeastSquaresDesign Subset { get; } = new();

        public LeastSquaresDesign SubsetLinear { get; } = new();

        public QuadraticModel Objective { get; private set; } = null!;

        public List<ModelConstraint> Constraints { get; } = [];

        public List<(int Cv, QuadraticModel Model)> Cvs { get; } = [];

        public (double Distance, int Index)[] Order { get; private set; } = [];

        public double[] Points { get; private set; } = [];

        public double[] Weights { get; private set; } = [];

        public double[] Values { get; private set; } = [];

        public double[] SubsetPoints { get; private set; } = [];

        public double[] SubsetWeights { get; private set; } = [];

        public void Prepare(int n, ModelShape shape, int recent, int m, int constraints)
        {
            if (Objective is null || Objective.N != n || Objective.Shape != shape)
            {
                Objective = new QuadraticModel(n, shape);
                _cvModels = new QuadraticModel?[constraints];
            }

            if (Order.Length < recent)
            {
                Order = new (double, int)[Math.Max(recent, 2 * Order.Length)];
            }

            if (Weights.Length < m)
            {
                int size = Math.Max(m, 2 * Weights.Length);
                Points = new double[size * n];
                Weights = new double[size];
                Values = new double[size];
                SubsetPoints = new double[size * n];
                SubsetWeights = new double[size];
            }
        }

        public QuadraticModel Cv(int j) => _cvModels[j] ??= new QuadraticModel(Objective.N, Objective.Shape);
    }
}
