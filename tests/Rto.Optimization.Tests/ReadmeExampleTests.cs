using Rto.Optimization.Models;

namespace Rto.Optimization.Tests;

/// <summary>The two examples of the package README (and samples/Rto.Samples.Optimization) give the answers they promise.</summary>
[TestClass]
public sealed class ReadmeExampleTests
{
    [TestMethod]
    public void TheMixedExampleFindsTheConstrainedMinimumForEverySeed()
    {
        for (int seed = 40; seed <= 44; seed++)
        {
            var problem = new OptimizationProblem(
                [DecisionVariable.Continuous("x", -5, 5), DecisionVariable.Integer("n", 0, 10), DecisionVariable.Bool("on")],
                [Constraint.AtMost("load", 3)],
                maximize: false,
                maxEvaluations: 60);
            var optimizer = Optimizer.Create(OptimizationMethods.TrustRegion, problem, seed);
            while (!optimizer.IsBudgetSpent)
            {
                double[] v = optimizer.Ask();
                double x = v[0], n = v[1], on = v[2];
                optimizer.Tell(v, objective: Math.Pow(x - 2, 2) + Math.Pow(n - 4, 2) - (2 * on), x * (1 + on));
            }

            EvaluatedCandidate best = optimizer.Best!;
            Assert.IsTrue(best.IsFeasible, $"seed {seed}");
            Assert.AreEqual(1.5, best.Candidate[0], 1e-3, $"seed {seed}");
            Assert.AreEqual(4.0, best.Candidate[1], $"seed {seed}");
            Assert.AreEqual(1.0, best.Candidate[2], $"seed {seed}");
            Assert.AreEqual(-1.75, best.Objective, 1e-3, $"seed {seed}");
        }
    }

    [TestMethod]
    public void TheFormulaModelExampleStopsAtTheTemperatureLimit()
    {
        FormulaModel reactor = FormulaModel.Parse("reactor", """
            inputs: x1, x2
            cv temperature = 350 + 8*x1 - 2*x2
            objective = 10 - (x1 - 2)^2 - (x2 + 3)^2
            """, "reactor.model");
        var problem = new OptimizationProblem(
            [DecisionVariable.Continuous("x1", -10, 10), DecisionVariable.Continuous("x2", -10, 10)],
            [Constraint.AtMost("temperature", 360)],
            maximize: true,
            maxEvaluations: 40);
        Assert.IsTrue(ModelBinding.TryCreate(reactor, problem, out ModelBinding? binding, out string? error), error);

        var optimizer = Optimizer.Create("", problem, seed: 1);
        while (!optimizer.IsBudgetSpent)
        {
            double[] x = optimizer.Ask();
            optimizer.Tell(x, binding.EvaluateCandidate(x));
        }

        // On 8 x1 - 2 x2 = 10 the loss (x1 - 2)² + (x2 + 3)² is smallest at t = 12/68 along (-8, 2): 10 - 68 t² = 7.882.
        EvaluatedCandidate best = optimizer.Best!;
        Assert.IsTrue(best.IsFeasible);
        Assert.AreEqual(10 - (144.0 / 68), best.Objective, 1e-2);
    }
}
