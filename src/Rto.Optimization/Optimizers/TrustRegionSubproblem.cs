using MathNet.Numerics.LinearAlgebra;
using MathNet.Numerics.LinearAlgebra.Factorization;

namespace Rto.Optimization.Optimizers;

/// <summary>A modelled constraint limit as g(d) ≤ 0 with g(d) = Sign·(model(d) − Limit) / Scale + Margin.</summary>
internal readonly record struct ModelConstraint(QuadraticModel Model, double Sign, double Limit, double Scale, double Margin)
{
    public double Value(Vector<double> d) => (Sign * (Model.Value(d) - Limit) / Scale) + Margin;
}

/// <summary>
/// Minimises a quadratic model inside a box subject to modelled constraint limits: an augmented Lagrangian
/// (PHR) outer loop around a projected Newton inner loop (eigenvalue-shifted where the model is not
/// convex), from several starts. The models are tiny (n ≤ a few dozen), so this costs well under a
/// millisecond in the usual cases while an evaluation costs a plant test.
/// </summary>
internal static class TrustRegionSubproblem
{
    public static Vector<double> Solve(QuadraticModel objective, IReadOnlyList<ModelConstraint> constraints, Vector<double> lower, Vector<double> upper, IEnumerable<Vector<double>> starts)
    {
        double scale = Math.Max(objective.Magnitude, 1e-300);
        Vector<double>? best = null;
        double bestObjective = 0, bestViolation = 0;
        // A convex subproblem has one minimum: the first start finds it and the others only cost time.
        bool convex = IsConvex(objective.Hessian, objective.Magnitude) && constraints.All(c => IsConvex(c.Model.Hessian * c.Sign, c.Model.Magnitude));
        foreach (Vector<double> start in convex ? starts.Take(1) : starts)
        {
            Vector<double> d = Local(objective, scale, constraints, lower, upper, Project(start, lower, upper));
            double value = objective.Value(d);
            double violation = MaxViolation(constraints, d);
            violation = violation <= 1e-9 ? 0 : violation;
            if (best is null || Feasibility.IsBetter(false, value, violation, bestObjective, bestViolation))
            {
                (best, bestObjective, bestViolation) = (d, value, violation);
            }
        }

        return best!;
    }

    private static Vector<double> Local(QuadraticModel objective, double scale, IReadOnlyList<ModelConstraint> constraints, Vector<double> lower, Vector<double> upper, Vector<double> d)
    {
        var multipliers = new double[constraints.Count];
        double penalty = 1e3;
        double previous = double.PositiveInfinity;
        for (int outer = 0; outer < 25; outer++)
        {
            d = MinimiseLagrangian(objective, scale, constraints, multipliers, penalty, lower, upper, d);
            if (constraints.Count == 0)
            {
                return d;
            }

            double violation = 0, change = 0;
            for (int j = 0; j < constraints.Count; j++)
            {
                double g = constraints[j].Value(d);
                violation = Math.Max(violation, g);
                double updated = Math.Max(0, multipliers[j] + (penalty * g));
                change = Math.Max(change, Math.Abs(updated - multipliers[j]));
                multipliers[j] = updated;
            }

            // Rounding keeps the violation near 1e-10 at best; tighter tests only spin (the constraint margin covers the rest).
            if (violation <= 1e-9 && change <= 1e-4 * (1 + multipliers.Max()))
            {
                break;
            }

            if (violation > 1e-9 && violation > 0.25 * previous)
            {
                penalty = Math.Min(penalty * 10, 1e8);
            }

            previous = violation;
        }

        return d;
    }

    private static Vector<double> MinimiseLagrangian(QuadraticModel objective, double scale, IReadOnlyList<ModelConstraint> constraints, double[] multipliers, double penalty, Vector<double> lower, Vector<double> upper, Vector<double> d)
    {
        int n = d.Count;
        for (int iteration = 0; iteration < 40; iteration++)
        {
            (double value, Vector<double> gradient, Matrix<double> hessian) = Lagrangian(objective, scale, constraints, multipliers, penalty, d, withHessian: true);
            var free = new List<int>(n);
            double projectedGradient = 0;
            for (int i = 0; i < n; i++)
            {
                bool heldLow = d[i] <= lower[i] + 1e-14 && gradient[i] > 0;
                bool heldHigh = d[i] >= upper[i] - 1e-14 && gradient[i] < 0;
                if (!heldLow && !heldHigh)
                {
                    free.Add(i);
                    projectedGradient = Math.Max(projectedGradient, Math.Abs(gradient[i]));
                }
            }

            if (free.Count == 0 || projectedGradient < 1e-13)
            {
                break;
            }

            Vector<double> direction = NewtonDirection(gradient, hessian, free, out bool shifted);
            double slope = gradient.DotProduct(direction);

            // Converged to rounding: a line search would only halve its way down to nothing.
            if (Math.Abs(slope) <= 1e-15 * (1 + Math.Abs(value)))
            {
                break;
            }

            if (slope >= 0)
            {
                direction = -gradient;
                foreach (int i in Enumerable.Range(0, n).Except(free))
                {
                    direction[i] = 0;
                }

                slope = gradient.DotProduct(direction);
            }

            // Backtrack along the projected path; a shifted (non-convex) direction may also stretch towards the box.
            Vector<double>? accepted = null;
            double acceptedValue = value;
            for (double t = shifted ? 64 : 1; t > 1e-9; t *= 0.5)
            {
                Vector<double> trial = Project(d + (t * direction), lower, upper);
                double trialValue = Lagrangian(objective, scale, constraints, multipliers, penalty, trial, withHessian: false).Value;
                if (trialValue < value + (1e-4 * gradient.DotProduct(trial - d)) && trialValue < acceptedValue)
                {
                    accepted = trial;
                    acceptedValue = trialValue;
                    break;
                }
            }

            if (accepted is null || (accepted - d).InfinityNorm() < 1e-15)
            {
                break;
            }

            d = accepted;
        }

        return d;
    }

    private static Vector<double> NewtonDirection(Vector<double> gradient, Matrix<double> hessian, List<int> free, out bool shifted)
    {
        int m = free.Count;
        Matrix<double> reduced = Matrix<double>.Build.Dense(m, m, (i, j) => hessian[free[i], free[j]]);
        Vector<double> g = Vector<double>.Build.Dense(m, i => gradient[free[i]]);
        Vector<double> direction = Vector<double>.Build.Dense(gradient.Count);
        shifted = false;
        double[] diagonal = [.. Enumerable.Range(0, m).Select(i => reduced[i, i])];
        if (diagonal.Min() > 1e-10 * diagonal.Max())
        {
            // The common, convex case: a plain Cholesky solve, no eigenvalues needed.
            try
            {
                Vector<double> newton = -reduced.Cholesky().Solve(g);
                for (int i = 0; i < m; i++)
                {
                    direction[free[i]] = newton[i];
                }

                return direction;
            }
            catch (ArgumentException)
            {
                // Not positive definite after all: shift it below.
            }
        }

        Evd<double> eigen = reduced.Evd(Symmetricity.Symmetric);
        double smallest = eigen.EigenValues.Min(v => v.Real);
        double largest = eigen.EigenValues.Max(v => Math.Abs(v.Real));
        double floor = 1e-10 * Math.Max(largest, 1e-300);
        shifted = smallest < floor;
        if (shifted)
        {
            reduced += Matrix<double>.Build.DenseIdentity(m) * (floor - smallest + (1e-6 * Math.Max(largest, 1e-12)));
        }

        Vector<double> step = -reduced.Cholesky().Solve(g);
        for (int i = 0; i < m; i++)
        {
            direction[free[i]] = step[i];
        }

        return direction;
    }

    private static (double Value, Vector<double> Gradient, Matrix<double> Hessian) Lagrangian(QuadraticModel objective, double scale, IReadOnlyList<ModelConstraint> constraints, double[] multipliers, double penalty, Vector<double> d, bool withHessian)
    {
        double value = objective.Value(d) / scale;
        Vector<double> gradient = objective.GradientAt(d) / scale;
        Matrix<double> hessian = withHessian ? objective.Hessian / scale : objective.Hessian;
        for (int j = 0; j < constraints.Count; j++)
        {
            ModelConstraint c = constraints[j];
            double g = c.Value(d);
            double shiftedValue = Math.Max(0, multipliers[j] + (penalty * g));
            value += ((shiftedValue * shiftedValue) - (multipliers[j] * multipliers[j])) / (2 * penalty);
            if (shiftedValue > 0)
            {
                double factor = c.Sign / c.Scale;
                Vector<double> gGradient = c.Model.GradientAt(d) * factor;
                gradient += gGradient * shiftedValue;
                if (withHessian)
                {
                    hessian += (gGradient.OuterProduct(gGradient) * penalty) + (c.Model.Hessian * (factor * shiftedValue));
                }
            }
        }

        return (value, gradient, hessian);
    }

    private static double MaxViolation(IReadOnlyList<ModelConstraint> constraints, Vector<double> d)
    {
        double violation = 0;
        foreach (ModelConstraint c in constraints)
        {
            violation = Math.Max(violation, c.Value(d) - c.Margin);
        }

        return violation;
    }

    private static bool IsConvex(Matrix<double> hessian, double magnitude) =>
        hessian.Evd(Symmetricity.Symmetric).EigenValues.All(v => v.Real >= -1e-9 * Math.Max(magnitude, 1e-300));

    private static Vector<double> Project(Vector<double> d, Vector<double> lower, Vector<double> upper) =>
        Vector<double>.Build.Dense(d.Count, i => Math.Clamp(d[i], lower[i], upper[i]));
}
