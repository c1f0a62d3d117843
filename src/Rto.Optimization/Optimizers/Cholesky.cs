namespace Rto.Optimization.Optimizers;

/// <summary>
/// Cholesky factorisation and solves of small symmetric matrices stored row-major in spans, in place
/// and without allocating: the trust region fits models and solves subproblems every evaluation, and
/// its matrices are a few dozen rows at most.
/// </summary>
internal static class Cholesky
{
    /// <summary>
    /// Factors the n×n matrix <paramref name="a"/> (lower triangle read) into L with A = LLᵀ, written over
    /// the lower triangle. False when a pivot is not above <paramref name="minPivot"/> (not positive definite).
    /// </summary>
    public static bool TryFactor(Span<double> a, int n, double minPivot = 0)
    {
        for (int j = 0; j < n; j++)
        {
            Span<double> rowJ = a.Slice(j * n, j);
            double pivot = a[(j * n) + j] - Dot(rowJ, rowJ);
            if (!(pivot > minPivot))
            {
                return false;
            }

            double l = Math.Sqrt(pivot);
            a[(j * n) + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                a[(i * n) + j] = (a[(i * n) + j] - Dot(a.Slice(i * n, j), rowJ)) / l;
            }
        }

        return true;
    }

    /// <summary>
    /// <see cref="TryFactor"/> of the principal submatrix of <paramref name="h"/> (row-major, row length
    /// <paramref name="stride"/>) on the rows and columns <paramref name="index"/>, plus <paramref name="shift"/>
    /// on its diagonal, read straight from <paramref name="h"/> into the factor <paramref name="l"/>: the same
    /// arithmetic as copying the submatrix first and adding the shift to its diagonal, without the copy, so an
    /// attempt that fails at an early pivot costs only the rows it reached.
    /// </summary>
    public static bool TryFactorPrincipal(ReadOnlySpan<double> h, int stride, ReadOnlySpan<int> index, double shift, Span<double> l, double minPivot)
    {
        int n = index.Length;
        for (int j = 0; j < n; j++)
        {
            int hj = index[j] * stride;
            Span<double> rowJ = l.Slice(j * n, j);
            double diagonal = h[hj + index[j]] + shift;
            double pivot = diagonal - Dot(rowJ, rowJ);
            if (!(pivot > minPivot))
            {
                return false;
            }

            double root = Math.Sqrt(pivot);
            l[(j * n) + j] = root;
            for (int i = j + 1; i < n; i++)
            {
                l[(i * n) + j] = (h[(index[i] * stride) + index[j]] - Dot(l.Slice(i * n, j), rowJ)) / root;
            }
        }

        return true;
    }

    /// <summary>
    /// Like <see cref="TryFactor"/>, but a pivot at or below <paramref name="relative"/> times its diagonal
    /// entry marks that row as dependent on the ones before it: returns its index (the factor is then
    /// incomplete), or −1 when the whole matrix was factored.
    /// </summary>
    public static int FactorOrFindDependent(Span<double> a, int n, double relative)
    {
        for (int j = 0; j < n; j++)
        {
            Span<double> rowJ = a.Slice(j * n, j);
            double diagonal = a[(j * n) + j];
            double pivot = diagonal - Dot(rowJ, rowJ);
            if (!(pivot > relative * diagonal) || !(pivot > 0))
            {
                return j;
            }

            double l = Math.Sqrt(pivot);
            a[(j * n) + j] = l;
            for (int i = j + 1; i < n; i++)
            {
                a[(i * n) + j] = (a[(i * n) + j] - Dot(a.Slice(i * n, j), rowJ)) / l;
            }
        }

        return -1;
    }

    /// <summary>Solves LLᵀx = b for the factor of <see cref="TryFactor"/>; <paramref name="x"/> holds b on entry.</summary>
    public static void Solve(ReadOnlySpan<double> l, int n, Span<double> x)
    {
        for (int i = 0; i < n; i++)
        {
            x[i] = (x[i] - Dot(l.Slice(i * n, i), x[..i])) / l[(i * n) + i];
        }

        for (int i = n - 1; i >= 0; i--)
        {
            double sum = x[i];
            for (int k = i + 1; k < n; k++)
            {
                sum -= l[(k * n) + i] * x[k];
            }

            x[i] = sum / l[(i * n) + i];
        }
    }

    /// <summary>Σ aᵢbᵢ in index order (the same rounding on every machine).</summary>
    public static double Dot(ReadOnlySpan<double> a, ReadOnlySpan<double> b)
    {
        double sum = 0;
        for (int i = 0; i < a.Length; i++)
        {
            sum += a[i] * b[i];
        }

        return sum;
    }
}
