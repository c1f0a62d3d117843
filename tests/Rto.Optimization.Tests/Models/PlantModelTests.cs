using Rto.Optimization.Models;

namespace Rto.Optimization.Tests.Models;

/// <summary>
/// The plant-like built-in problems: their recorded optima (computed offline with scipy — HiGHS
/// linprog for the linear plant, multi-start SLSQP for the nonlinear one) are feasible, bind the
/// limits their descriptions say, and no sampled feasible point beats them.
/// </summary>
[TestClass]
public sealed class PlantModelTests
{
    private static BuiltInModel Model(string id) => BuiltInModels.All.Single(m => m.Id == id);

    [TestMethod]
    [DataRow("plant6-linear", 6, 13, 5)]
    [DataRow("plant8-nonlinear", 8, 12, 5)]
    public void TheRecordedOptimumIsFeasibleAndBindsSeveralTwoSidedLimits(string id, int mvs, int limits, int binding)
    {
        BuiltInModel model = Model(id);
        OptimizationProblem problem = model.CreateProblem(100);
        Assert.HasCount(mvs, problem.Variables);
        Assert.HasCount(limits + 1, problem.Constraints, "the objective is declared as the first output, the rest are CV limits");
        Assert.IsTrue(problem.Constraints[0] is { Lower: -1e100, Upper: 1e100, HasLower: false, HasUpper: false }, "the objective output has ±1e100 bounds, as the original clients declare it");
        Assert.IsTrue(problem.Constraints.Skip(1).All(c => c.HasLower && c.HasUpper), "every CV has two-sided limits");

        double[] optimum = [.. model.Optimum.Candidate];
        Evaluation evaluation = model.EvaluateCandidate(optimum);
        Assert.AreEqual(model.Optimum.Objective, evaluation.Objective, 1e-9 * Math.Abs(model.Optimum.Objective));
        Assert.AreEqual(evaluation.Objective, evaluation.ConstraintValues[0], "the first output is the objective");

        // Feasible up to the solver's accuracy, with the stated number of CV limits binding.
        int active = 0;
        for (int j = 1; j < problem.Constraints.Count; j++)
        {
            Constraint cv = problem.Constraints[j];
            double value = evaluation.ConstraintValues[j], tolerance = 1e-7 * (cv.Upper - cv.Lower);
            Assert.IsTrue(value >= cv.Lower - tolerance && value <= cv.Upper + tolerance, $"{cv.Id} = {value} outside [{cv.Lower}, {cv.Upper}]");
            active += Math.Min(value - cv.Lower, cv.Upper - value) <= tolerance ? 1 : 0;
        }

        Assert.AreEqual(binding, active, "binding CV limits at the optimum");
    }

    [TestMethod]
    [DataRow("plant6-linear")]
    [DataRow("plant8-nonlinear")]
    public void NoSampledFeasiblePointBeatsTheRecordedOptimum(string id)
    {
        BuiltInModel model = Model(id);
        OptimizationProblem problem = model.CreateProblem(1);
        var random = new Random(11);
        double[] optimum = [.. model.Optimum.Candidate];
        int feasible = 0;
        for (int k = 0; k < 20_000; k++)
        {
            // Half uniform in the box, half near the optimum, where a better point would hide.
            double[] x = new double[optimum.Length];
            for (int i = 0; i < x.Length; i++)
            {
                DecisionVariable mv = problem.Variables[i];
                double near = optimum[i] + ((mv.Upper - mv.Lower) * 0.02 * ((2 * random.NextDouble()) - 1));
                x[i] = Math.Clamp(k % 2 == 0 ? mv.Lower + (random.NextDouble() * (mv.Upper - mv.Lower)) : near, mv.Lower, mv.Upper);
            }

            Evaluation evaluation = model.EvaluateCandidate(x);
            if (problem.IsFeasible(evaluation))
            {
                feasible++;
                Assert.IsLessThanOrEqualTo(model.Optimum.Objective + (1e-9 * Math.Abs(model.Optimum.Objective)), evaluation.Objective, $"({string.Join(", ", x)}) beats the optimum");
            }
        }

        Assert.IsGreaterThan(500, feasible, "the sample reaches the feasible region");
    }
}
