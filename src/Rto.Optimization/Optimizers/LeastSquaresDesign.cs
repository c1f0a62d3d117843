using System.Numerics;

namespace Rto.Optimization.Optimizers;

/// <summary>
/// The weighted design of the points a model is fitted to, factorised once: every quantity measured at
/// the same points (the objective and each constraint) is then fitted for the cost of two products.
/// The fit is ridge-regularised least squares with the constant and linear terms nearly free and the
/// curvature penalised, the regression analogue of the minimum-Frobenius-norm models of NEWUOA/BOBYQA:
/// 2n+1 axis points give an exact diagonal quadratic, and with fewer points than terms the curvature
/// nobody measured stays zero. The normal equations are formed in the smaller of the two spaces (points
/// or terms), so the cost is bounded by min(m, T)²·max(m, T) for m points and T terms.
/// </summary>
internal sealed class LeastSquaresDesign
{
    private const double FirstOrderScale = 10;

    // Relative to the mean diagonal of the normal matrix: small enough that a well-spread design is
    // fitted exactly (to rounding), large enough that repeated or unmeasured directions stay zero.
    private const double Ridge = 1e-12;

    private double[] _features = [];
    private double[] _normal = [];
    private double[] _alpha = [];
    private double[] _coefficients = [];
    private double[] _residual = [];
    private double[] _rowScale = [];
    private int _m;
    private int _terms;
    private int _n;
    private bool _kernel;
    private double _ridge;
    private ModelShape _shape;

    public static int Terms(int n, ModelShape shape) => shape switch
    {
        ModelShape.Linear => n + 1,
        ModelShape.Diagonal => (2 * n) + 1,
        _ => 1 + (2 * n) + (n * (n - 1) / 2),
    };

    /// <summary>
    /// Builds and factorises the design of <paramref name="m"/> points (row-major m×n, scaled
    /// coordinates) with their weights, for models of <paramref name="shape"/>.
    /// </summary>
    public void Factor(ReadOnlySpan<double> points, ReadOnlySpan<double> weights, int m, int n, ModelShape shape)
    {
        int terms = Terms(n, shape);
        (_m, _n, _terms, _shape, _kernel) = (m, n, terms, shape, m < terms);
        int dim = _kernel ? m : terms;
        Grow(ref _features, m * terms);
        Grow(ref _normal, dim * dim);
        Grow(ref _alpha, Math.Max(m, terms));
        Grow(ref _coefficients, terms);
        Grow(ref _residual, Math.Max(m, terms));
        Grow(ref _rowScale, m);
        for (int r = 0; r < m; r++)
        {
            double w = Math.Sqrt(weights[r]);
            _rowScale[r] = w;
            Features(points.Slice(r * n, n), w, _features.AsSpan(r * terms, terms));
        }

        Span<double> normal = _normal.AsSpan(0, dim * dim);
        for (double ridge = Ridge; ; ridge *= 1e4)
        {
            double trace = FormNormal(normal);
            _ridge = (ridge * trace / dim) + 1e-300;
            for (int i = 0; i < dim; i++)
            {
                normal[(i * dim) + i] += _ridge;
            }

            // Non-finite data (it is filtered out before) or a pathological design: a heavier ridge always succeeds.
            if (Cholesky.TryFactor(normal, dim) || ridge > 1)
            {
                return;
            }
        }
    }

    /// <summary>Fits <paramref name="values"/> (one per point, in the order of <see cref="Factor"/>) into <paramref name="model"/>.</summary>
    public void Fit(ReadOnlySpan<double> values, QuadraticModel model)
    {
        int m = _m, terms = _terms;
        ReadOnlySpan<double> a = _features.AsSpan(0, m * terms);
        Span<double> z = _coefficients.AsSpan(0, terms);
        Span<double> residual = _residual.AsSpan(0, Math.Max(m, terms));

        // Kernel form (fewer points than terms): α = (AAᵀ + λI)⁻¹y, z = Aᵀα. Normal form: z = (AᵀA + λI)⁻¹Aᵀy.
        // One step of iterative refinement recovers what forming the normal matrix lost, so an exactly
        // linear output is fitted exactly and the trust region can aim at its limit.
        if (_kernel)
        {
            ReadOnlySpan<double> factor = _normal.AsSpan(0, m * m);
            Span<double> alpha = _alpha.AsSpan(0, m);
            for (int r = 0; r < m; r++)
            {
                alpha[r] = _rowScale[r] * values[r];
            }

            Cholesky.Solve(factor, m, alpha);
            Transposed(a, alpha, z);
            for (int r = 0; r < m; r++)
            {
                residual[r] = (_rowScale[r] * values[r]) - Cholesky.Dot(a.Slice(r * terms, terms), z) - (_ridge * alpha[r]);
            }

            Cholesky.Solve(factor, m, residual[..m]);
            for (int r = 0; r < m; r++)
            {
                alpha[r] += residual[r];
            }

            Transposed(a, alpha, z);
        }
        else
        {
            ReadOnlySpan<double> factor = _normal.AsSpan(0, terms * terms);
            Span<double> alpha = _alpha.AsSpan(0, Math.Max(m, terms));
            for (int r = 0; r < m; r++)
            {
                alpha[r] = _rowScale[r] * values[r];
            }

            Transposed(a, alpha[..m], z);
            Cholesky.Solve(factor, terms, z);
            for (int r = 0; r < m; r++)
            {
                alpha[r] -= Cholesky.Dot(a.Slice(r * terms, terms), z);
            }

            Transposed(a, alpha[..m], residual[..terms]);
            for (int c = 0; c < terms; c++)
            {
                residual[c] -= _ridge * z[c];
            }

            Cholesky.Solve(factor, terms, residual[..terms]);
            for (int c = 0; c < terms; c++)
            {
                z[c] += residual[c];
            }
        }

        Store(z, model);
    }

    /// <summary>into = Aᵀv.</summary>
    private void Transposed(ReadOnlySpan<double> a, ReadOnlySpan<double> v, Span<double> into)
    {
        int terms = _terms;
        into[..terms].Clear();
        for (int r = 0; r < _m; r++)
        {
            AddScaled(into[..terms], a.Slice(r * terms, terms), v[r]);
        }
    }

    /// <summary>Unscales the coefficients (constant, gradient, then curvature in the order of <see cref="Features"/>) into the model.</summary>
    private void Store(ReadOnlySpan<double> z, QuadraticModel model)
    {
        int n = _n, c = 0;
        model.Constant = FirstOrderScale * z[c++];
        for (int i = 0; i < n; i++)
        {
            model.Gradient[i] = FirstOrderScale * z[c++];
        }

        model.IsLinear = _shape == ModelShape.Linear;
        double[] h = model.Curvature;
        Array.Clear(h);
        if (model.IsLinear)
        {
            return;
        }

        bool dense = model.Shape == ModelShape.Full;
        for (int i = 0; i < n; i++)
        {
            h[dense ? (i * n) + i : i] = z[c++];
        }

        if (_shape == ModelShape.Full)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++)
                {
                    h[(i * n) + j] = z[c];
                    h[(j * n) + i] = z[c];
                    c++;
                }
            }
        }
    }

    /// <summary>Σ aᵢⱼaₖⱼ over the smaller dimension into the lower triangle (and mirrored); returns the trace.</summary>
    private double FormNormal(Span<double> normal)
    {
        int m = _m, terms = _terms;
        ReadOnlySpan<double> a = _features.AsSpan(0, m * terms);
        double trace = 0;
        if (_kernel)
        {
            for (int r = 0; r < m; r++)
            {
                for (int s = 0; s <= r; s++)
                {
                    double v = Cholesky.Dot(a.Slice(r * terms, terms), a.Slice(s * terms, terms));
                    normal[(r * m) + s] = v;
                    normal[(s * m) + r] = v;
                }

                trace += normal[(r * m) + r];
            }
        }
        else
        {
            normal[..(terms * terms)].Clear();
            for (int r = 0; r < m; r++)
            {
                ReadOnlySpan<double> row = a.Slice(r * terms, terms);
                for (int c = 0; c < terms; c++)
                {
                    double rc = row[c];
                    if (rc == 0)
                    {
                        continue;
                    }

                    AddScaled(normal.Slice(c * terms, c + 1), row[..(c + 1)], rc);
                }
            }

            for (int c = 0; c < terms; c++)
            {
                for (int k = 0; k < c; k++)
                {
                    normal[(k * terms) + c] = normal[(c * terms) + k];
                }

                trace += normal[(c * terms) + c];
            }
        }

        return trace;
    }

    /// <summary>The weighted, column-scaled features of one point: 1, d, ½d², then dᵢdⱼ (i &lt; j) for a full model.</summary>
    private void Features(ReadOnlySpan<double> d, double w, Span<double> row)
    {
        int n = _n, c = 0;
        row[c++] = w * FirstOrderScale;
        for (int i = 0; i < n; i++)
        {
            row[c++] = w * FirstOrderScale * d[i];
        }

        if (_shape == ModelShape.Linear)
        {
            return;
        }

        for (int i = 0; i < n; i++)
        {
            row[c++] = w * 0.5 * d[i] * d[i];
        }

        if (_shape == ModelShape.Full)
        {
            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++)
                {
                    row[c++] = w * d[i] * d[j];
                }
            }
        }
    }

    /// <summary>
    /// target[k] += factor·source[k], several elements at a time. Each element gets exactly the scalar
    /// loop's two roundings (a multiply, then an add: .NET never fuses them), so the bits do not depend on
    /// the vector width, and a replay on another machine proposes the same candidates.
    /// </summary>
    private static void AddScaled(Span<double> target, ReadOnlySpan<double> source, double factor)
    {
        int k = 0;
        if (Vector.IsHardwareAccelerated && target.Length >= Vector<double>.Count)
        {
            var scale = new Vector<double>(factor);
            for (; k <= target.Length - Vector<double>.Count; k += Vector<double>.Count)
            {
                Vector<double> product = new Vector<double>(source[k..]) * scale;
                (new Vector<double>(target[k..]) + product).CopyTo(target[k..]);
            }
        }

        for (; k < target.Length; k++)
        {
            target[k] += factor * source[k];
        }
    }

    private static void Grow(ref double[] buffer, int length)
    {
        if (buffer.Length < length)
        {
            buffer = new double[length];
        }
    }
}
