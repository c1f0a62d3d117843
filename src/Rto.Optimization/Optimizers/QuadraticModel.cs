using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Rto.Optimization.Optimizers;

/// <summary>
/// m(d) = c + gᵀd + ½ dᵀHd in the trust region's scaled coordinates, fitted by weighted least squares.
/// With fewer points than terms the fit is the minimum-norm one (truncated SVD pseudo-inverse) with
/// constant and linear terms nearly free and curvature penalised, the regression analogue of the
/// minimum-Frobenius-norm models of NEWUOA/BOBYQA: 2n+1 axis points give an exact diagonal quadratic.
/// </summary>
internal sealed class QuadraticModel
{
    private const double FirstOrderScale = 10;

    private QuadraticModel(double constant, Vector<double> gradient, Matrix<double> hessian)
    {
        Constant = constant;
        Gradient = gradient;
        Hessian = hessian;
    }

    public double Constant { get; }

    public Vector<double> Gradient { get; }

    public Matrix<double> Hessian { get; }

    public double Value(Vector<double> d) => Constant + Gradient.DotProduct(d) + (0.5 * d.DotProduct(Hessian * d));

    public Vector<double> GradientAt(Vector<double> d) => Gradient + (Hessian * d);

    /// <summary>
    /// A bound on |m(d) − m(0)| over the unit box |dᵢ| ≤ 1 (the trust region in scaled coordinates):
    /// Σ|gᵢ| + ½ Σ|Hᵢⱼ|. The model stays within Constant ± Reach everywhere in the region.
    /// </summary>
    public double Reach
    {
        get
        {
            double reach = 0;
            for (int i = 0; i < Gradient.Count; i++)
            {
                reach += Math.Abs(Gradient[i]);
                for (int j = 0; j < Gradient.Count; j++)
                {
                    reach += 0.5 * Math.Abs(Hessian[i, j]);
                }
            }

            return reach;
        }
    }

    /// <summary>Size of the model's slope and curvature, used to bring it to a common scale.</summary>
    public double Magnitude => Gradient.L2Norm() + Hessian.FrobeniusNorm();

    public static QuadraticModel Fit(IReadOnlyList<double[]> points, IReadOnlyList<double> values, IReadOnlyList<double> weights, int n) =>
        Fit(Factor(points, weights, n), values);

    /// <summary>
    /// The weighted design of <paramref name="points"/>, factorised once: every quantity measured at
    /// the same points (the objective and each constraint) is then fitted for the cost of two products.
    /// </summary>
    public static Design Factor(IReadOnlyList<double[]> points, IReadOnlyList<double> weights, int n)
    {
        int terms = 1 + n + n + (n * (n - 1) / 2);
        var columnScale = new double[terms];
        for (int c = 0; c < terms; c++)
        {
            columnScale[c] = c <= n ? FirstOrderScale : 1;
        }

        var rowScale = new double[points.Count];
        Matrix<double> design = Matrix<double>.Build.Dense(points.Count, terms);
        for (int r = 0; r < points.Count; r++)
        {
            double w = Math.Sqrt(weights[r]);
            rowScale[r] = w;
            double[] d = points[r];
            int c = 0;
            design[r, c] = w * columnScale[c];
            c++;
            for (int i = 0; i < n; i++, c++)
            {
                design[r, c] = w * columnScale[c] * d[i];
            }

            for (int i = 0; i < n; i++, c++)
            {
                design[r, c] = w * columnScale[c] * 0.5 * d[i] * d[i];
            }

            for (int i = 0; i < n; i++)
            {
                for (int j = i + 1; j < n; j++, c++)
                {
                    design[r, c] = w * columnScale[c] * d[i] * d[j];
                }
            }
        }

        // Many points (the global lattice model): reduce to the square R of a thin QR first, so the SVD does not build an m×m U.
        Matrix<double>? q = null;
        if (design.RowCount > 4 * terms)
        {
            var qr = design.QR(QRMethod.Thin);
            q = qr.Q;
            design = qr.R;
        }

        return new Design(n, terms, columnScale, rowScale, q, design.Svd(computeVectors: true));
    }

    public static QuadraticModel Fit(Design design, IReadOnlyList<double> values)
    {
        int n = design.N, terms = design.Terms;
        double[] columnScale = design.ColumnScale;
        Vector<double> target = Vector<double>.Build.Dense(values.Count, r => design.RowScale[r] * values[r]);
        if (design.Q is not null)
        {
            target = design.Q.TransposeThisAndMultiply(target);
        }

        Svd<double> svd = design.Svd;
        Vector<double> projected = svd.U.TransposeThisAndMultiply(target);
        Vector<double> coefficients = Vector<double>.Build.Dense(terms);
        double tolerance = svd.S.Count == 0 ? 0 : svd.S[0] * 1e-11;
        for (int k = 0; k < svd.S.Count; k++)
        {
            if (svd.S[k] > tolerance)
            {
                coefficients += svd.VT.Row(k) * (projected[k] / svd.S[k]);
            }
        }

        for (int c = 0; c < terms; c++)
        {
            coefficients[c] *= columnScale[c];
        }

        Vector<double> gradient = coefficients.SubVector(1, n);
        Matrix<double> hessian = Matrix<double>.Build.Dense(n, n);
        int at = 1 + n;
        for (int i = 0; i < n; i++)
        {
            hessian[i, i] = coefficients[at++];
        }

        for (int i = 0; i < n; i++)
        {
            for (int j = i + 1; j < n; j++)
            {
                hessian[i, j] = coefficients[at];
                hessian[j, i] = coefficients[at];
                at++;
            }
        }

        return new QuadraticModel(coefficients[0], gradient, hessian);
    }

    /// <summary>A factorised weighted design (see <see cref="Factor"/>).</summary>
    internal sealed record Design(int N, int Terms, double[] ColumnScale, double[] RowScale, Matrix<double>? Q, Svd<double> Svd);
}
