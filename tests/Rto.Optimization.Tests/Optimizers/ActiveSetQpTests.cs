using Rto.Optimization.Optimizers;

namespace Rto.Optimization.Tests.Optimizers;

/// <summary>
/// The trust region's quadratic-program solver against brute force: linear programs against every
/// vertex, convex quadratic programs against their KKT conditions, non-convex ones for local optimality.
/// </summary>
[TestClass]
public sealed class ActiveSetQpTests
{
    [TestMethod]
    public void LinearProgramsReachTheBestVertex()
    {
        var random = new Random(5);
        var qp = new ActiveSetQp();
        for (int trial = 0; trial < 300; trial++)
        {
            int n = 2 + random.Next(3), count = random.Next(5);
            Fill(qp, random, n, count, dense: trial % 2 == 0, hessian: 0);
            double[] x = new double[n];
            qp.Solve(x, 500);
            AssertFeasible(qp, x, trial);
            double best = BestVertex(qp);
            Assert.AreEqual(best, Objective(qp, x), 1e-9 * (1 + Math.Abs(best)), $"LP {trial}: {Objective(qp, x)} against the best vertex {best}");
        }
    }

    [TestMethod]
    public void ConvexProgramsMeetTheirKktConditions()
    {
        var random = new Random(7);
        var qp = new ActiveSetQp();
        for (int trial = 0; trial < 300; trial++)
        {
            int n = 2 + random.Next(6), count = random.Next(6);
            bool dense = trial % 3 != 0;
            Fill(qp, random, n, count, dense, hessian: 1);
            double[] x = new double[n];
            qp.Solve(x, 500);
            AssertFeasible(qp, x, trial);

            // No feasible point nearby is better: for a convex program that is the global minimum.
            double value = Objective(qp, x);
            for (int k = 0; k < 200; k++)
            {
                double[] y = Perturbed(qp, x, random, 1e-3);
                if (IsFeasible(qp, y))
                {
                    Assert.IsGreaterThanOrEqualTo(value - 1e-10, Objective(qp, y), $"QP {trial}: a feasible neighbour is better");
                }
            }

            // The multipliers are those of the active constraints only.
            for (int j = 0; j < count; j++)
            {
                Assert.IsGreaterThanOrEqualTo(0, qp.Multipliers[j]);
                if (qp.Multipliers[j] > 1e-9)
                {
                    Assert.AreEqual(qp.Limits[j], Dot(qp, j, x), 1e-8, $"QP {trial}: constraint {j} has a multiplier but is not active");
                }
            }
        }
    }

    [TestMethod]
    public void NonConvexProgramsEndAtAFeasibleLocalMinimumNoWorseThanTheStart()
    {
        var random = new Random(9);
        var qp = new ActiveSetQp();
        for (int trial = 0; trial < 300; trial++)
        {
            int n = 2 + random.Next(5), count = random.Next(5);
            Fill(qp, random, n, count, dense: trial % 2 == 0, hessian: -1);
            double[] x = new double[n];
            double start = Objective(qp, x);
            qp.Solve(x, 500);
            AssertFeasible(qp, x, trial);
            double value = Objective(qp, x);
            Assert.IsLessThanOrEqualTo(start + 1e-12, value, $"QP {trial}");
            for (int k = 0; k < 200; k++)
            {
                double[] y = Perturbed(qp, x, random, 1e-6);
                if (IsFeasible(qp, y))
                {
                    Assert.IsGreaterThanOrEqualTo(value - 1e-9, Objective(qp, y), $"QP {trial}: not a local minimum");
                }
            }
        }
    }

    /// <summary>A random program feasible at x = 0: the box holds 0 and every limit is at least 0. Hessian sign 0: zero, 1: convex, −1: indefinite.</summary>
    private static void Fill(ActiveSetQp qp, Random random, int n, int count, bool dense, int hessian)
    {
        qp.Reset(n, count, dense);
        double[] root = new double[n * n];
        for (int k = 0; k < root.Length; k++)
        {
            root[k] = (2 * random.NextDouble()) - 1;
        }

        for (int i = 0; i < n; i++)
        {
            qp.Linear[i] = (2 * random.NextDouble()) - 1;
            qp.Lower[i] = -random.NextDouble() - 0.1;
            qp.Upper[i] = random.NextDouble() + 0.1;
            for (int j = 0; j < n && hessian != 0; j++)
            {
                double h = 0;
                for (int k = 0; k < n; k++)
                {
                    h += root[(i * n) + k] * root[(j * n) + k];
                }

                if (hessian < 0 && i == j)
                {
                    h -= 1.5;
                }

                if (dense)
                {
                    qp.Hessian[(i * n) + j] = h;
                }
                else if (i == j)
                {
                    qp.Hessian[i] = hessian < 0 ? h - 1 : h;
                }
            }
        }

        for (int j = 0; j < count; j++)
        {
            for (int i = 0; i < n; i++)
            {
                qp.Rows[(j * n) + i] = (2 * random.NextDouble()) - 1;
            }

            qp.Limits[j] = random.Next(3) == 0 ? 0 : random.NextDouble() * 0.5;
        }
    }

    private static double Objective(ActiveSetQp qp, double[] x)
    {
        int n = qp.N;
        double value = 0;
        for (int i = 0; i < n; i++)
        {
            value += qp.Linear[i] * x[i];
            for (int j = 0; j < n; j++)
            {
                double h = qp.Dense ? qp.Hessian[(i * n) + j] : i == j ? qp.Hessian[i] : 0;
                value += 0.5 * x[i] * h * x[j];
            }
        }

        return value;
    }

    private static double Dot(ActiveSetQp qp, int j, double[] x)
    {
        double sum = 0;
        for (int i = 0; i < qp.N; i++)
        {
            sum += qp.Rows[(j * qp.N) + i] * x[i];
        }

        return sum;
    }

    private static bool IsFeasible(ActiveSetQp qp, double[] x, double tolerance = 0)
    {
        for (int i = 0; i < qp.N; i++)
        {
            if (x[i] < qp.Lower[i] - tolerance || x[i] > qp.Upper[i] + tolerance)
            {
                return false;
            }
        }

        for (int j = 0; j < qp.Count; j++)
        {
            if (Dot(qp, j, x) > qp.Limits[j] + tolerance)
            {
                return false;
            }
        }

        return true;
    }

    private static void AssertFeasible(ActiveSetQp qp, double[] x, int trial) =>
        Assert.IsTrue(IsFeasible(qp, x, 1e-9), $"program {trial}: ({string.Join(", ", x)}) is infeasible");

    private static double[] Perturbed(ActiveSetQp qp, double[] x, Random random, double size)
    {
        double[] y = (double[])x.Clone();
        for (int i = 0; i < y.Length; i++)
        {
            y[i] = Math.Clamp(y[i] + (size * ((2 * random.NextDouble()) - 1)), qp.Lower[i], qp.Upper[i]);
        }

        return y;
    }

    /// <summary>The best feasible vertex: every choice of n active constraints among the 2n bounds and the rows, solved exactly.</summary>
    private static double BestVertex(ActiveSetQp qp)
    {
        int n = qp.N, total = (2 * n) + qp.Count;
        double best = double.PositiveInfinity;
        foreach (int[] choice in Choices(total, n))
        {
            double[] a = new double[n * n], b = new double[n];
            for (int r = 0; r < n; r++)
            {
                int c = choice[r];
                if (c < 2 * n)
                {
                    a[(r * n) + (c / 2)] = 1;
                    b[r] = c % 2 == 0 ? qp.Lower[c / 2] : qp.Upper[c / 2];
                }
                else
                {
                    for (int i = 0; i < n; i++)
                    {
                        a[(r * n) + i] = qp.Rows[((c - (2 * n)) * n) + i];
                    }

                    b[r] = qp.Limits[c - (2 * n)];
                }
            }

            if (Solve(a, b, n) is { } x && IsFeasible(qp, x, 1e-9))
            {
                best = Math.Min(best, Objective(qp, x));
            }
        }

        return best;
    }

    private static IEnumerable<int[]> Choices(int total, int size)
    {
        int[] c = [.. Enumerable.Range(0, size)];
        while (true)
        {
            yield return (int[])c.Clone();
            int i = size - 1;
            while (i >= 0 && c[i] == total - size + i)
            {
                i--;
            }

            if (i < 0)
            {
                yield break;
            }

            c[i]++;
            for (int j = i + 1; j < size; j++)
            {
                c[j] = c[j - 1] + 1;
            }
        }
    }

    /// <summary>Gaussian elimination with partial pivoting; null when singular.</summary>
    private static double[]? Solve(double[] a, double[] b, int n)
    {
        for (int col = 0; col < n; col++)
        {
            int pivot = col;
            for (int r = col + 1; r < n; r++)
            {
                if (Math.Abs(a[(r * n) + col]) > Math.Abs(a[(pivot * n) + col]))
                {
                    pivot = r;
                }
            }

            if (Math.Abs(a[(pivot * n) + col]) < 1e-12)
            {
                return null;
            }

            for (int k = 0; k < n; k++)
            {
                (a[(col * n) + k], a[(pivot * n) + k]) = (a[(pivot * n) + k], a[(col * n) + k]);
            }

            (b[col], b[pivot]) = (b[pivot], b[col]);
            for (int r = col + 1; r < n; r++)
            {
                double f = a[(r * n) + col] / a[(col * n) + col];
                for (int k = col; k < n; k++)
                {
                    a[(r * n) + k] -= f * a[(col * n) + k];
                }

                b[r] -= f * b[col];
            }
        }

        double[] x = new double[n];
        for (int r = n - 1; r >= 0; r--)
        {
            double s = b[r];
            for (int k = r + 1; k < n; k++)
            {
                s -= a[(r * n) + k] * x[k];
            }

            x[r] = s / a[(r * n) + r];
        }

        return x;
    }
}
