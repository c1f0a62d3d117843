using Rto.Optimization.Models;

namespace Rto.Optimization.Tests.Optimizers;

/// <summary>The public surface: problem validation, Tell's checks and copies, the best point, the budget.</summary>
[TestClass]
public sealed class OptimizerApiTests
{
    private static readonly OptimizationProblem s_problem = new(
        [DecisionVariable.Continuous("x", -5, 5), DecisionVariable.Integer("n", 0, 10), DecisionVariable.Bool("on")],
        [Constraint.AtMost("cost", 12)],
        maximize: false,
        maxEvaluations: 30);

    private static Evaluation Evaluate(double[] v) =>
        new(((v[0] - 1.5) * (v[0] - 1.5)) + ((v[1] - 7) * (v[1] - 7)) - (3 * v[2]), [v[0] + v[1] + (4 * v[2])]);

    [TestMethod]
    [DataRow(VariableType.Continuous, double.NaN, 1.0, "finite")]
    [DataRow(VariableType.Continuous, 0.0, double.PositiveInfinity, "finite")]
    [DataRow(VariableType.Continuous, -1.797e308, 1.797e308, "magnitude below 1e30")]
    [DataRow(VariableType.Integer, 0.0, 1e30, "magnitude below 1e30")]
    [DataRow(VariableType.Continuous, -1e100, 0.0, "larger means unbounded")]
    [DataRow(VariableType.Continuous, 2.0, 1.0, "greater than upper bound")]
    [DataRow(VariableType.Integer, 0.2, 0.8, "no whole number")]
    [DataRow(VariableType.Bool, 2.0, 3.0, "neither 0 nor 1")]
    public void AVariableWithoutAdmissibleValuesIsRefused(VariableType type, double lower, double upper, string reason)
    {
        ArgumentException error = Assert.ThrowsExactly<ArgumentException>(() => DecisionVariable.Create("v", type, lower, upper));
        Assert.Contains(reason, error.Message);
        Assert.Contains("'v'", error.Message, "the message names the variable");

        Assert.IsFalse(DecisionVariable.TryCreate("v", type, lower, upper, out DecisionVariable? variable, out string? why));
        Assert.IsNull(variable);
        Assert.AreEqual(error.Message.Split(" (Parameter")[0], why, "TryCreate says the same, for a service to reply with");
    }

    [TestMethod]
    public void TheWidestSearchableBoundsAreJustBelow1e30AndTheOptimizersWorkWithThem()
    {
        Assert.AreEqual(1e30, OptimizationProblem.InfiniteBound);
        Assert.IsTrue(DecisionVariable.TryCreate("wide", VariableType.Continuous, -9.9e29, 9.9e29, out DecisionVariable? wide, out string? error), error);
        var problem = new OptimizationProblem([wide, DecisionVariable.Continuous("y", -1, 1)], [], maximize: false, maxEvaluations: 40);
        foreach (string method in OptimizationMethods.Known)
        {
            Optimizer optimizer = Optimizer.Create(method, problem, seed: 3);
            for (int i = 0; i < 40; i++)
            {
                double[] x = optimizer.Ask();
                Assert.IsTrue(x.All(double.IsFinite) && Math.Abs(x[0]) <= 9.9e29, $"{method}: candidate {i} is ({string.Join(", ", x)})");
                optimizer.Tell(x, ((x[0] / 1e29) * (x[0] / 1e29)) + (x[1] * x[1]));
            }

            Assert.IsTrue(double.IsFinite(optimizer.Best!.Objective), method);
        }
    }

    [TestMethod]
    public void ConstraintsKnowWhichSidesAreLimited()
    {
        Assert.IsTrue(Constraint.AtMost("a", 1) is { HasLower: false, HasUpper: true });
        Assert.IsTrue(Constraint.AtLeast("b", 1) is { HasLower: true, HasUpper: false });
        Assert.IsTrue(Constraint.Between("c", 0, 1) is { HasLower: true, HasUpper: true });
        Assert.IsTrue(Constraint.Create("d", double.MinValue, double.MaxValue) is { HasLower: false, HasUpper: false }, "the wire's ±MaxValue means no limit");
        Assert.IsTrue(Constraint.Create("g", -1e100, 1e100) is { HasLower: false, HasUpper: false, Lower: -1e100, Upper: 1e100 }, "±1e100 (Gurobi's ∞) means no limit and is kept as given");
        Assert.IsTrue(Constraint.Create("h", -1e30, 9.99e29) is { HasLower: false, HasUpper: true }, "1e30 is the threshold");
        Assert.ThrowsExactly<ArgumentException>(() => Constraint.Between("e", 2, 1));
        Assert.ThrowsExactly<ArgumentException>(() => Constraint.AtMost("f", double.NaN));
    }

    [TestMethod]
    public void AConstraintWhoseBoundsAre1e100IsNeverAConstraint()
    {
        // The original RTO clients declare the objective as a CV with bounds ±1e100: any value of it is feasible.
        var problem = new OptimizationProblem([DecisionVariable.Continuous("x", 0, 1)], [Constraint.Between("target", -1e100, 1e100), Constraint.AtMost("c", 0.5)], maximize: true, maxEvaluations: 10);
        Assert.AreEqual(0, problem.Violation(new Evaluation(1e120, [1e120, 0.5])));
        Assert.IsTrue(problem.IsFeasible(new Evaluation(-3, [-1e200, 0.2])));
        Assert.IsFalse(problem.IsFeasible(new Evaluation(1, [1, 0.6])));
        Assert.AreEqual(0.1, problem.Violation(new Evaluation(1, [double.NaN, 0.6])), 1e-12, "a NaN value of a CV without limits is no violation");
    }

    [TestMethod]
    public void ATellThatDoesNotFitTheProblemIsRefusedAndChangesNothing()
    {
        Optimizer optimizer = Optimizer.Create("", s_problem, seed: 1);
        double[] x = optimizer.Ask();

        Assert.ThrowsExactly<ArgumentException>(() => optimizer.Tell([1, 2], Evaluate(x)));
        Assert.ThrowsExactly<ArgumentException>(() => optimizer.Tell(x, 1.0));
        Assert.ThrowsExactly<ArgumentException>(() => optimizer.Tell(x, 1.0, 2, 3));

        Assert.AreEqual(0, optimizer.Evaluations);
        Assert.IsNull(optimizer.Best);
        CollectionAssert.AreEqual(x, optimizer.Ask(), "the outstanding candidate is still the one to evaluate");
    }

    [TestMethod]
    public void AnUnknownMethodNameListsTheKnownOnes()
    {
        ArgumentException error = Assert.ThrowsExactly<ArgumentException>(() => Optimizer.Create("Magic", s_problem, 1));
        Assert.Contains("TrustRegion", error.Message);
        Assert.Contains("GaussOpt", error.Message);
    }

    [TestMethod]
    public void TellingValuesAndTellingAnEvaluationAreTheSame()
    {
        Optimizer byValues = Optimizer.Create(OptimizationMethods.TrustRegion, s_problem, 5);
        Optimizer byEvaluation = Optimizer.Create(OptimizationMethods.TrustRegion, s_problem, 5);
        for (int i = 0; i < 20; i++)
        {
            double[] x = byValues.Ask();
            CollectionAssert.AreEqual(x, byEvaluation.Ask(), $"candidate {i}");
            Evaluation e = Evaluate(x);
            byValues.Tell(x, e.Objective, e.ConstraintValues);
            byEvaluation.Tell(x, e);
        }
    }

    [TestMethod]
    public void TheCallersArraysCanBeReusedAfterTell()
    {
        Optimizer reusing = Optimizer.Create(OptimizationMethods.TrustRegion, s_problem, 3);
        Optimizer control = Optimizer.Create(OptimizationMethods.TrustRegion, s_problem, 3);
        for (int i = 0; i < 20; i++)
        {
            double[] x = reusing.Ask();
            Evaluation e = Evaluate(x);
            reusing.Tell(x, e);
            control.Tell(control.Ask(), Evaluate(x));
            Array.Fill(x, double.NaN);
            Array.Fill(e.ConstraintValues, -1000);
        }

        CollectionAssert.AreEqual(control.Ask(), reusing.Ask());
        Assert.IsFalse(reusing.Best!.Candidate.Any(double.IsNaN));
        Assert.AreNotEqual(-1000, reusing.Best.Evaluation.ConstraintValues[0]);

        // Nor can what Best hands out change what the method remembers.
        Array.Fill(reusing.Best.Evaluation.ConstraintValues, -1000);
        for (int i = 0; i < 10; i++)
        {
            double[] x = reusing.Ask();
            CollectionAssert.AreEqual(control.Ask(), x, $"candidate {i} after Best was changed");
            reusing.Tell(x, Evaluate(x));
            control.Tell(x, Evaluate(x));
        }
    }

    [TestMethod]
    [DynamicData(nameof(OptimizerContractTests.Methods), typeof(OptimizerContractTests))]
    public void BestIsTheFeasibilityFirstBestOfEverythingTold(string method)
    {
        // Failed evaluations and an active limit: the best must be feasible and match an independent ranking.
        BuiltInModel model = BuiltInModels.All.Single(m => m.Id == "parabola4-constrained");
        OptimizerRun run = OptimizerRun.Drive(method, model.CreateProblem(40), 2, x =>
            x[0] > 3 ? Evaluation.Failed(3) : model.EvaluateCandidate(x), 40);

        (double[] candidate, Evaluation evaluation) = run.Best();
        EvaluatedCandidate? best = run.Optimizer.Best;
        Assert.IsNotNull(best);
        CollectionAssert.AreEqual(candidate, best.ToArray(), method);
        Assert.AreEqual(evaluation.Objective, best.Objective);
        Assert.AreEqual(run.Problem.IsFeasible(evaluation), best.IsFeasible);
        Assert.AreEqual(run.Problem.Violation(evaluation), best.Violation);
        Assert.AreEqual(run.Candidates.FindIndex(c => c.SequenceEqual(candidate)) + 1, best.Number, "the first evaluation of the best point");
    }

    [TestMethod]
    public void TheBudgetIsReportedButAskingPastItStillWorks()
    {
        Optimizer optimizer = Optimizer.Create(OptimizationMethods.PatternSearch, s_problem, 1);
        int asked = 0;
        while (!optimizer.IsBudgetSpent)
        {
            double[] x = optimizer.Ask();
            optimizer.Tell(x, Evaluate(x));
            asked++;
        }

        Assert.AreEqual(s_problem.MaxEvaluations, asked);
        Assert.AreEqual(asked, optimizer.Evaluations);
        Assert.HasCount(3, optimizer.Ask());
    }

    [TestMethod]
    public void AFailedEvaluationIsInfeasibleAndNeverBeatsAFeasibleOne()
    {
        Optimizer optimizer = Optimizer.Create("", s_problem, 1);
        double[] first = optimizer.Ask();
        optimizer.Tell(first, Evaluation.Failed(1));
        Assert.IsFalse(optimizer.Best!.IsFeasible);
        Assert.AreEqual(double.PositiveInfinity, s_problem.Violation(Evaluation.Failed(1)));

        double[] second = optimizer.Ask();
        optimizer.Tell(second, 1e6, 0);
        Assert.AreEqual(2, optimizer.Best!.Number);
        Assert.IsTrue(optimizer.Best.IsFeasible);
    }

    [TestMethod]
    public void AFormulaModelBindsToAProblemByIdOrName()
    {
        FormulaModel model = FormulaModel.Parse("plant", "inputs: x, n\ncv T = 100 + x * n\nobjective = x - n\n", "plant.model");
        var problem = new OptimizationProblem(
            [DecisionVariable.Integer("FIC-2", 0, 5) with { Name = "n" }, DecisionVariable.Continuous("x", -1, 1)],
            [Constraint.AtMost("TI-1", 103) with { Name = "T" }, Constraint.Unlimited("unmodelled")],
            maximize: true,
            maxEvaluations: 10);

        Assert.IsTrue(ModelBinding.TryCreate(model, problem, out ModelBinding? binding, out string? error), error);
        Evaluation evaluation = binding.EvaluateCandidate([3, 0.5]);

        Assert.AreEqual(0.5 - 3, evaluation.Objective);
        Assert.AreEqual(101.5, evaluation.ConstraintValues[0]);
        Assert.IsTrue(double.IsNaN(evaluation.ConstraintValues[1]));
        Assert.IsTrue(evaluation.Succeeded);
        CollectionAssert.AreEqual(new[] { "unmodelled" }, binding.UnboundConstraints.ToArray());
    }
}
