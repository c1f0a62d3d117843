namespace Rto.Optimization.Optimizers;

/// <summary>Which terms a model has beyond the constant and the gradient.</summary>
internal enum ModelShape
{
    /// <summary>m(d) = c + gᵀd.</summary>
    Linear,

    /// <summary>Plus ½ Σ hᵢdᵢ²: 2n+1 terms, the model for many variables.</summary>
    Diagonal,

    /// <summary>Plus ½ dᵀHd with a full symmetric H: (n+1)(n+2)/2 terms.</summary>
    Full,
}

/// <summary>
/// m(d) = c + gᵀd + ½ dᵀHd in the trust region's scaled coordinates. Mutable and reused from step to
/// step (a fit overwrites it), so a step allocates nothing for its models. A model fitted as linear has
/// <see cref="IsLinear"/> set and no curvature, whatever its storage shape.
/// </summary>
internal sealed class QuadraticModel
{
    public QuadraticModel(int n, ModelShape shape)
    {
        N = n;
        Shape = shape;
        Gradient = new double[n];
        Curvature = new double[shape == ModelShape.Full ? n * n : n];
    }

    public int N { get; }

    /// <summary>How <see cref="Curvature"/> is stored: n×n row-major for Full, the diagonal otherwise.</summary>
    public ModelShape Shape { get; }

    public double Constant { get; set; }

    public double[] Gradient { get; }

    /// <summary>H: the full symmetric matrix (Full) or its diagonal (Diagonal, Linear).</summary>
    public double[] Curvature { get; }

    /// <summary>True when H is zero (a linear fit, or a Linear shape).</summary>
    public bool IsLinear { get; set; }

    public bool IsDense => Shape == ModelShape.Full;

    public double Value(ReadOnlySpan<double> d)
    {
        double value = Constant + Cholesky.Dot(Gradient, d);
        return IsLinear ? value : value + (0.5 * CurvatureAlong(d));
    }

    /// <summary>dᵀHd.</summary>
    public double CurvatureAlong(ReadOnlySpan<double> d)
    {
        if (IsLinear)
        {
            return 0;
        }

        int n = N;
        double sum = 0;
        if (Shape == ModelShape.Full)
        {
            for (int i = 0; i < n; i++)
            {
                sum += d[i] * Cholesky.Dot(Curvature.AsSpan(i * n, n), d);
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                sum += Curvature[i] * d[i] * d[i];
            }
        }

        return sum;
    }

    /// <summary><paramref name="into"/> += <paramref name="factor"/>·(g + Hd), the model's gradient at d.</summary>
    public void AddGradientAt(ReadOnlySpan<double> d, double factor, Span<double> into)
    {
        int n = N;
        for (int i = 0; i < n; i++)
        {
            double slope = Gradient[i];
            if (!IsLinear)
            {
                slope += Shape == ModelShape.Full ? Cholesky.Dot(Curvature.AsSpan(i * n, n), d) : Curvature[i] * d[i];
            }

            into[i] += factor * slope;
        }
    }

    /// <summary><paramref name="into"/> += <paramref name="factor"/>·H, into an n×n matrix when <paramref name="dense"/>, else into a diagonal.</summary>
    public void AddCurvature(double factor, Span<double> into, bool dense)
    {
        if (IsLinear)
        {
            return;
        }

        int n = N;
        if (Shape == ModelShape.Full)
        {
            for (int k = 0; k < n * n; k++)
            {
                into[k] += factor * Curvature[k];
            }
        }
        else
        {
            for (int i = 0; i < n; i++)
            {
                into[dense ? (i * n) + i : i] += factor * Curvature[i];
            }
        }
    }

    /// <summary>
    /// A bound on |m(d) − m(0)| over the unit box |dᵢ| ≤ 1 (the trust region in scaled coordinates):
    /// Σ|gᵢ| + ½ Σ|Hᵢⱼ|. The model stays within Constant ± Reach everywhere in the region.
    /// </summary>
    public double Reach
    {
        get
        {
            double reach = 0;
            foreach (double g in Gradient)
            {
                reach += Math.Abs(g);
            }

            if (!IsLinear)
            {
                foreach (double h in Curvature)
                {
                    reach += 0.5 * Math.Abs(h);
                }
            }

            return reach;
        }
    }

    /// <summary>Size of the model's slope and curvature (‖g‖₂ + ‖H‖_F), used to bring it to a common scale.</summary>
    public double Magnitude
    {
        get
        {
            double curvature = 0;
            if (!IsLinear)
            {
                foreach (double h in Curvature)
                {
                    curvature += h * h;
                }
            }

            return Math.Sqrt(Cholesky.Dot(Gradient, Gradient)) + Math.Sqrt(curvature);
        }
    }

    /// <summary>True when H is positive semidefinite up to a tolerance relative to the model's magnitude (a Cholesky test with a small shift).</summary>
    public bool IsConvex(double sign, Span<double> work)
    {
        if (IsLinear)
        {
            return true;
        }

        double tolerance = 1e-9 * Math.Max(Magnitude, 1e-300);
        int n = N;
        if (Shape != ModelShape.Full)
        {
            foreach (double h in Curvature)
            {
                if (sign * h < -tolerance)
                {
                    return false;
                }
            }

            return true;
        }

        Span<double> a = work[..(n * n)];
        for (int k = 0; k < n * n; k++)
        {
            a[k] = sign * Curvature[k];
        }

        for (int i = 0; i < n; i++)
        {
            a[(i * n) + i] += tolerance;
        }

        return Cholesky.TryFactor(a, n);
    }
}
