namespace Rto.Optimization.Optimizers;

/// <summary>
/// A primal active-set solver for the small quadratic programs of the trust region:
/// minimise gᵀx + ½xᵀHx subject to lower ≤ x ≤ upper and aⱼᵀx ≤ bⱼ, from a feasible start.
/// H is dense (n×n) or diagonal and may be indefinite or zero: each step minimises along a
/// (shifted) Newton direction within the working face and stops at the first blocking constraint, so a
/// linear program walks from vertex to vertex like the simplex method and a non-convex one ends at a
/// local minimum, never leaving the box. The working face is solved by the range-space method
/// (Cholesky of the reduced H, then of AH⁻¹Aᵀ), so the cost per step is O(n³) dense or O(n·k²)
/// diagonal for k working constraints. Workspace is kept between solves; nothing is allocated once it
/// has grown to the problem's size.
/// </summary>
internal sealed class ActiveSetQp
{
    private double[] _gradient = [];
    private double[] _reduced = [];
    private double[] _direction = [];
    private double[] _v = [];
    private double[] _columns = [];
    private bool[] _columnValid = [];
    private double[] _schur = [];
    private double[] _lambda = [];
    private double[] _rowNorms = [];
    private int[] _free = [];
    private int[] _working = [];
    private sbyte[] _bound = [];
    private bool[] _inWorking = [];
    private int _workingCount;
    private bool _shifted;
    private int[] _factoredFree = [];
    private int _factoredCount = -1;
    private bool _shiftFollowsGradient;

    /// <summary>Variables.</summary>
    public int N { get; private set; }

    /// <summary>General constraints.</summary>
    public int Count { get; private set; }

    /// <summary>True when <see cref="Hessian"/> holds an n×n matrix, false when it holds the diagonal.</summary>
    public bool Dense { get; private set; }

    public double[] Hessian { get; private set; } = [];

    public double[] Linear { get; private set; } = [];

    public double[] Lower { get; private set; } = [];

    public double[] Upper { get; private set; } = [];

    /// <summary>The general constraints' rows aⱼ, Count × N row-major.</summary>
    public double[] Rows { get; private set; } = [];

    public double[] Limits { get; private set; } = [];

    /// <summary>After <see cref="Solve"/>: the multiplier of each general constraint (0 unless it is in the final working set).</summary>
    public double[] Multipliers { get; private set; } = [];

    /// <summary>Sizes the problem and clears H and g; the caller then fills the data arrays.</summary>
    public void Reset(int n, int count, bool dense)
    {
        (N, Count, Dense) = (n, count, dense);
        Hessian = Sized(Hessian, dense ? n * n : n);
        Linear = Sized(Linear, n);
        Lower = Sized(Lower, n);
        Upper = Sized(Upper, n);
        Rows = Sized(Rows, count * n, clear: false);
        Limits = Sized(Limits, count, clear: false);
        Multipliers = Sized(Multipliers, count);
        Grow(ref _gradient, n);
        Grow(ref _reduced, dense ? n * n : n);
        Grow(ref _direction, n);
        Grow(ref _v, Math.Max(n, count));
        Grow(ref _columns, n * Math.Max(count, 1));
        Grow(ref _schur, count * count);
        Grow(ref _lambda, Math.Max(count, 1));
        Grow(ref _rowNorms, Math.Max(count, 1));
        if (_free.Length < n)
        {
            _free = new int[n];
            _factoredFree = new int[n];
            _bound = new sbyte[n];
        }

        if (_working.Length < count)
        {
            _working = new int[count];
            _inWorking = new bool[count];
            _columnValid = new bool[count];
        }
    }

    /// <summary>
    /// Improves the feasible start <paramref name="x"/> to a local minimum (a KKT point) or until
    /// <paramref name="maxIterations"/> steps; returns the number of steps taken.
    /// </summary>
    public int Solve(Span<double> x, int maxIterations)
    {
        int n = N, count = Count;
        Span<sbyte> bound = _bound.AsSpan(0, n);
        bound.Clear();
        Span<bool> inWorking = _inWorking.AsSpan(0, count);
        inWorking.Clear();
        Multipliers.AsSpan(0, count).Clear();
        _workingCount = 0;
        _factoredCount = -1;
        for (int j = 0; j < count; j++)
        {
            _rowNorms[j] = Math.Sqrt(Cholesky.Dot(Row(j), Row(j)));
        }

        double gradientScale = 0;
        for (int i = 0; i < n; i++)
        {
            gradientScale = Math.Max(gradientScale, Math.Abs(Linear[i]));
        }

        int iteration = 0;
        while (iteration++ < maxIterations)
        {
            Gradient(x);
            int free = 0;
            for (int i = 0; i < n; i++)
            {
                if (bound[i] == 0)
                {
                    _free[free++] = i;
                }
            }

            if (!StepOnFace(free, out double stationarity))
            {
                break;
            }

            Span<double> p = _direction.AsSpan(0, n);
            double slope = Cholesky.Dot(_gradient.AsSpan(0, n), p);
            double scale = Math.Max(gradientScale, MaxAbs(_gradient.AsSpan(0, n)));
            if (stationarity <= 1e-11 * Math.Max(scale, 1e-300) || slope >= 0)
            {
                // At the minimum of this face: release the constraint whose multiplier says the objective falls off it.
                int release = MostNegativeMultiplier(out bool isBound);
                if (release < 0)
                {
                    break;
                }

                if (isBound)
                {
                    bound[release] = 0;
                }
                else
                {
                    RemoveWorking(release);
                }

                continue;
            }

            // An unshifted Newton step ends at the face's minimum (step 1); a shifted one (non-convex or linear
            // face) goes to the minimum along p, or to the first constraint when the curvature along p is not positive.
            double curvature = CurvatureAlong(p);
            double step = !_shifted ? 1 : curvature > 0 ? -slope / curvature : double.PositiveInfinity;
            int blocking = -1;
            bool blockingIsBound = false;
            for (int k = 0; k < free; k++)
            {
                int i = _free[k];
                double limit = p[i] > 0 ? (Upper[i] - x[i]) / p[i] : p[i] < 0 ? (Lower[i] - x[i]) / p[i] : double.PositiveInfinity;
                if (limit < step)
                {
                    (step, blocking, blockingIsBound) = (Math.Max(limit, 0), i, true);
                }
            }

            double length = MaxAbs(p);
            for (int j = 0; j < count; j++)
            {
                if (inWorking[j])
                {
                    continue;
                }

                double rate = Cholesky.Dot(Row(j), p);
                if (rate > 1e-14 * _rowNorms[j] * length)
                {
                    double limit = (Limits[j] - Cholesky.Dot(Row(j), x)) / rate;
                    if (limit < step)
                    {
                        (step, blocking, blockingIsBound) = (Math.Max(limit, 0), j, false);
                    }
                }
            }

            if (double.IsPositiveInfinity(step))
            {
                break;
            }

            for (int k = 0; k < free; k++)
            {
                int i = _free[k];
                x[i] = Math.Clamp(x[i] + (step * p[i]), Lower[i], Upper[i]);
            }

            if (blocking >= 0 && blockingIsBound)
            {
                bound[blocking] = p[blocking] > 0 ? (sbyte)1 : (sbyte)-1;
                x[blocking] = p[blocking] > 0 ? Upper[blocking] : Lower[blocking];
            }
            else if (blocking >= 0)
            {
                _working[_workingCount++] = blocking;
                inWorking[blocking] = true;
            }

            Restore(x, free);
        }

        for (int k = 0; k < _workingCount; k++)
        {
            Multipliers[_working[k]] = Math.Max(0, _lambda[k]);
        }

        return iteration - 1;
    }

    /// <summary>
    /// Puts x back on the working rows (aᵀx = b) by the least change of the free variables: a step computed
    /// from a nearly cancelling gradient carries rounding across the face, and a long step would carry it
    /// outside a working limit, where nothing checks it any more.
    /// </summary>
    private void Restore(Span<double> x, int free)
    {
        int n = N, w = _workingCount;
        if (w == 0 || free == 0)
        {
            return;
        }

        Span<double> gram = _schur.AsSpan(0, w * w);
        Span<double> residual = _v.AsSpan(0, w);
        double largest = 0;
        for (int k = 0; k < w; k++)
        {
            ReadOnlySpan<double> row = Row(_working[k]);
            residual[k] = Cholesky.Dot(row, x) - Limits[_working[k]];
            largest = Math.Max(largest, Math.Abs(residual[k]));
            for (int l = 0; l <= k; l++)
            {
                ReadOnlySpan<double> other = Row(_working[l]);
                double sum = 0;
                for (int f = 0; f < free; f++)
                {
                    sum += row[_free[f]] * other[_free[f]];
                }

                gram[(k * w) + l] = sum;
                gram[(l * w) + k] = sum;
            }
        }

        if (largest == 0 || Cholesky.FactorOrFindDependent(gram, w, 1e-10) >= 0)
        {
            return;
        }

        Cholesky.Solve(gram, w, residual);
        for (int f = 0; f < free; f++)
        {
            int i = _free[f];
            double correction = 0;
            for (int k = 0; k < w; k++)
            {
                correction += Rows[(_working[k] * n) + i] * residual[k];
            }

            x[i] = Math.Clamp(x[i] - correction, Lower[i], Upper[i]);
        }
    }

    private void RemoveWorking(int index)
    {
        int last = --_workingCount;
        _inWorking[_working[index]] = false;
        _working[index] = _working[last];
        _lambda[index] = _lambda[last];
    }

    private ReadOnlySpan<double> Row(int j) => Rows.AsSpan(j * N, N);

    /// <summary>g + Hx into the gradient buffer.</summary>
    private void Gradient(ReadOnlySpan<double> x)
    {
        int n = N;
        for (int i = 0; i < n; i++)
        {
            _gradient[i] = Linear[i] + (Dense ? Cholesky.Dot(Hessian.AsSpan(i * n, n), x) : Hessian[i] * x[i]);
        }
    }

    private double CurvatureAlong(ReadOnlySpan<double> p)
    {
        int n = N;
        double sum = 0;
        for (int i = 0; i < n; i++)
        {
            if (p[i] != 0)
            {
                sum += p[i] * (Dense ? Cholesky.Dot(Hessian.AsSpan(i * n, n), p) : Hessian[i] * p[i]);
            }
        }

        return sum;
    }

    /// <summary>
    /// The step p on the face (free variables, working rows as equalities): p = −H̃⁻¹(g + Aᵀλ) with λ making Ap = 0,
    /// H̃ the reduced Hessian shifted to be positive definite. Sets λ for the working rows and the size of the
    /// projected gradient |g + Aᵀλ| in <paramref name="stationarity"/>. False when the face cannot be solved.
    /// </summary>
    private bool StepOnFace(int free, out double stationarity)
    {
        int n = N;
        Span<double> p = _direction.AsSpan(0, n);
        p.Clear();
        stationarity = 0;
        if (free == 0)
        {
            // Every variable is on a bound: the working rows have nothing left to hold.
            while (_workingCount > 0)
            {
                RemoveWorking(_workingCount - 1);
            }

            return true;
        }

        // H is fixed during a solve, so the factor of the reduced Hessian depends only on the free set, which
        // changes only when a bound is added or released: most steps reuse it (the same bits either way).
        Span<double> reduced = _reduced.AsSpan(0, Dense ? free * free : free);
        if (free != _factoredCount || !_free.AsSpan(0, free).SequenceEqual(_factoredFree.AsSpan(0, free)))
        {
            _factoredCount = -1;
            _columnValid.AsSpan(0, Count).Clear();
            if (!FactorReduced(free, reduced))
            {
                return false;
            }

            // A zero Hessian is shifted by the gradient's size, which moves: that factor is not kept.
            _free.AsSpan(0, free).CopyTo(_factoredFree);
            _factoredCount = _shiftFollowsGradient ? -1 : free;
        }

        // v = H̃⁻¹g_F, Y = H̃⁻¹A_Fᵀ (column k for working row k), S = A_F Y.
        Span<double> v = _v.AsSpan(0, free);
        for (int f = 0; f < free; f++)
        {
            v[f] = _gradient[_free[f]];
        }

        SolveReduced(reduced, free, v);
        // A working row that the others already imply on this face (after bounds fixed variables) holds by
        // itself as the face moves: it is dropped, found as a vanishing pivot of S. A row's column H̃⁻¹aᵀ is kept
        // while the factor is: the working set changes one row at a time, so most columns are reused.
        int w;
        Span<double> lambda;
        while (true)
        {
            w = _workingCount;
            Span<double> schur = _schur.AsSpan(0, w * w);
            lambda = _lambda.AsSpan(0, Math.Max(w, 1));
            for (int k = 0; k < w; k++)
            {
                int j = _working[k];
                ReadOnlySpan<double> row = Row(j);
                Span<double> column = _columns.AsSpan(j * n, free);
                double av = 0;
                for (int f = 0; f < free; f++)
                {
                    av += row[_free[f]] * v[f];
                }

                lambda[k] = -av;
                if (!_columnValid[j])
                {
                    for (int f = 0; f < free; f++)
                    {
                        column[f] = row[_free[f]];
                    }

                    SolveReduced(reduced, free, column);
                    _columnValid[j] = true;
                }

                for (int l = 0; l <= k; l++)
                {
                    double sum = 0;
                    ReadOnlySpan<double> other = _columns.AsSpan(_working[l] * n, free);
                    for (int f = 0; f < free; f++)
                    {
                        sum += row[_free[f]] * other[f];
                    }

                    schur[(k * w) + l] = sum;
                    schur[(l * w) + k] = sum;
                }
            }

            int dependent = w == 0 ? -1 : Cholesky.FactorOrFindDependent(schur, w, 1e-10);
            if (dependent < 0)
            {
                Cholesky.Solve(schur, w, lambda[..w]);
                break;
            }

            RemoveWorking(dependent);
        }

        for (int f = 0; f < free; f++)
        {
            double value = v[f];
            for (int k = 0; k < w; k++)
            {
                value += _columns[(_working[k] * n) + f] * lambda[k];
            }

            p[_free[f]] = -value;
        }

        for (int f = 0; f < free; f++)
        {
            int i = _free[f];
            double residual = _gradient[i];
            for (int k = 0; k < w; k++)
            {
                residual += Rows[(_working[k] * n) + i] * lambda[k];
            }

            stationarity = Math.Max(stationarity, Math.Abs(residual));
        }

        return true;
    }

    /// <summary>Cholesky of the reduced Hessian, shifted just enough to be positive definite (a zero Hessian gets a shift of the gradient's size).</summary>
    private bool FactorReduced(int free, Span<double> reduced)
    {
        int n = N;
        double largest = 0, smallest = double.PositiveInfinity;
        for (int f = 0; f < free; f++)
        {
            int i = _free[f];
            if (Dense)
            {
                for (int g = 0; g < free; g++)
                {
                    largest = Math.Max(largest, Math.Abs(Hessian[(i * n) + _free[g]]));
                }
            }
            else
            {
                largest = Math.Max(largest, Math.Abs(Hessian[i]));
                smallest = Math.Min(smallest, Hessian[i]);
            }
        }

        _shiftFollowsGradient = !(largest > 0);
        double floor = largest > 0 ? 1e-10 * largest : Math.Max(MaxAbs(_gradient.AsSpan(0, n)), 1e-300);
        if (!Dense)
        {
            // A diagonal needs no trial factorisations: the shift lifts its smallest entry to the floor.
            // An indefinite diagonal is lifted well clear of zero, so p stays well scaled (the line search, not
            // the shift, exploits the negative curvature); a singular one only to the floor.
            double minimum = 1e-14 * Math.Max(largest, 1e-300);
            double shift = smallest > minimum ? 0 : smallest < 0 ? (1e-3 * largest) - smallest : floor - smallest;
            for (int f = 0; f < free; f++)
            {
                reduced[f] = Hessian[_free[f]] + shift;
            }

            _shifted = shift > 0;
            return true;
        }

        // Shifts are tried in a fixed sequence and the first that factors wins. One that leaves a diagonal
        // entry at or below zero cannot (that row's pivot is at most its diagonal entry), so it is skipped
        // without trying: the same shift wins, the same bits come out.
        double smallestDiagonal = double.PositiveInfinity;
        for (int f = 0; f < free; f++)
        {
            smallestDiagonal = Math.Min(smallestDiagonal, Hessian[(_free[f] * n) + _free[f]]);
        }

        ReadOnlySpan<int> index = _free.AsSpan(0, free);
        for (double shift = 0, attempt = 0; attempt < 40; attempt++, shift = shift == 0 ? floor : shift * 10)
        {
            if (smallestDiagonal + shift <= 0)
            {
                continue;
            }

            if (Cholesky.TryFactorPrincipal(Hessian, n, index, shift, reduced, 1e-14 * Math.Max(largest + shift, 1e-300)))
            {
                _shifted = shift > 0;
                return true;
            }
        }

        return false;
    }

    private void SolveReduced(ReadOnlySpan<double> reduced, int free, Span<double> x)
    {
        if (Dense)
        {
            Cholesky.Solve(reduced, free, x);
        }
        else
        {
            for (int f = 0; f < free; f++)
            {
                x[f] /= reduced[f];
            }
        }
    }

    /// <summary>The working constraint or bound with the most negative (scaled) multiplier; −1 when none is below the tolerance.</summary>
    private int MostNegativeMultiplier(out bool isBound)
    {
        int n = N;
        isBound = false;
        int best = -1;
        double most = -1e-12 * Math.Max(MaxAbs(_gradient.AsSpan(0, n)), 1e-300);
        int w = _workingCount;
        for (int k = 0; k < w; k++)
        {
            double scaled = _lambda[k] / Math.Max(_rowNorms[_working[k]], 1e-300);
            if (scaled < most)
            {
                (most, best, isBound) = (scaled, k, false);
            }
        }

        for (int i = 0; i < n; i++)
        {
            if (_bound[i] == 0)
            {
                continue;
            }

            double residual = _gradient[i];
            for (int k = 0; k < w; k++)
            {
                residual += Rows[(_working[k] * n) + i] * _lambda[k];
            }

            double multiplier = _bound[i] > 0 ? -residual : residual;
            if (multiplier < most)
            {
                (most, best, isBound) = (multiplier, i, true);
            }
        }

        return best;
    }

    private static double MaxAbs(ReadOnlySpan<double> values)
    {
        double max = 0;
        foreach (double v in values)
        {
            max = Math.Max(max, Math.Abs(v));
        }

        return max;
    }

    private static double[] Sized(double[] buffer, int length, bool clear = true)
    {
        if (buffer.Length < length)
        {
            return new double[length];
        }

        if (clear)
        {
            Array.Clear(buffer, 0, length);
        }

        return buffer;
    }

    private static void Grow(ref double[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new double[length];
        }
    }
}
