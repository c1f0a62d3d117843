namespace Rto.Optimization.Tests.Optimizers;

/// <summary>Every method: valid candidates, determinism and replay, budget overrun, and method names.</summary>
[TestClass]
public sealed class OptimizerContractTests
{
    public static IEnumerable<object[]> Methods => OptimizationMethods.Known.Select(m => new object[] { m });

    /// <summary>Continuous, Integer (fractional bounds), Bool, and three variables that cannot move; a constraint that cuts the box.</summary>
    private static OptimizationProblem MixedProblem(int budget = 60) => new(
        [
            DecisionVariable.Continuous("a", -1, 2),
            DecisionVariable.Integer("n", -3.5, 4.2),
            DecisionVariable.Bool("b"),
            DecisionVariable.Continuous("fixed", 5, 5),
            DecisionVariable.Integer("fixedInt", 2, 2),
            DecisionVariable.Create("fixedBool", VariableType.Bool, 1, 1),
        ],
        [Constraint.AtMost("c", 2)],
        maximize: true,
        budget);

    private static Evaluation EvaluateMixed(double[] x) =>
        new(-((x[0] - 1.3) * (x[0] - 1.3)) - (0.5 * (x[1] - 2) * (x[1] - 2)) + x[2], [x[0] + (0.5 * x[1])], Succeeded: true);

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void CandidatesStayWithinBoundsAndTypesEvenPastTheBudget(string method)
    {
        for (int seed = 1; seed <= 3; seed++)
        {
            OptimizationProblem problem = MixedProblem(budget: 25);
            OptimizerRun run = OptimizerRun.Drive(method, problem, seed, EvaluateMixed, 40);
            foreach (double[] x in run.Candidates)
            {
                Assert.HasCount(problem.Variables.Count, x);
                for (int i = 0; i < x.Length; i++)
                {
                    DecisionVariable mv = problem.Variables[i];
                    Assert.IsTrue(x[i] >= mv.Lower && x[i] <= mv.Upper, $"{method} seed {seed}: {mv.Id} = {x[i]} outside [{mv.Lower}, {mv.Upper}]");
                    if (mv.Type == VariableType.Integer)
                    {
                        Assert.AreEqual(Math.Round(x[i]), x[i], $"{method}: {mv.Id} = {x[i]} is not whole");
                    }

                    if (mv.Type == VariableType.Bool)
                    {
                        Assert.IsTrue(x[i] is 0 or 1, $"{method}: {mv.Id} = {x[i]} is not 0/1");
                    }
                }

                Assert.AreEqual(5, x[3]);
                Assert.AreEqual(2, x[4]);
                Assert.AreEqual(1, x[5]);
            }
        }
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void SameSeedSameCandidatesAndOtherSeedsDiffer(string method)
    {
        List<double[]> first = OptimizerRun.Drive(method, MixedProblem(), 7, EvaluateMixed, 40).Candidates;
        List<double[]> again = OptimizerRun.Drive(method, MixedProblem(), 7, EvaluateMixed, 40).Candidates;
        List<double[]> other = OptimizerRun.Drive(method, MixedProblem(), 8, EvaluateMixed, 40).Candidates;
        for (int i = 0; i < first.Count; i++)
        {
            CollectionAssert.AreEqual(first[i], again[i], $"{method}: candidate {i}");
        }

        Assert.IsTrue(first.Zip(other).Any(pair => !pair.First.SequenceEqual(pair.Second)), $"{method}: seeds 7 and 8 gave the same candidates");
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void ReplayingRecordedEvaluationsThroughAFreshOptimizerContinuesIdentically(string method)
    {
        OptimizationProblem problem = MixedProblem();
        Optimizer original = OptimizerRun.Create(method, problem, 3);
        var recorded = new List<(double[] Candidate, Evaluation Evaluation)>();
        for (int i = 0; i < 25; i++)
        {
            double[] candidate = original.Ask();

            // A failed evaluation in the history must replay like any other.
            Evaluation evaluation = i == 5 ? new Evaluation(double.NaN, [double.NaN], Succeeded: false) : EvaluateMixed(candidate);
            original.Tell(candidate, evaluation);
            recorded.Add((candidate, evaluation));
        }

        Optimizer restored = OptimizerRun.Create(method, problem, 3);
        foreach ((double[] candidate, Evaluation evaluation) in recorded)
        {
            CollectionAssert.AreEqual(candidate, restored.Ask(), method);
            restored.Tell(candidate, evaluation);
        }

        for (int i = 0; i < 15; i++)
        {
            double[] next = original.Ask();
            CollectionAssert.AreEqual(next, restored.Ask(), $"{method}: candidate {i} after the replay");
            original.Tell(next, EvaluateMixed(next));
            restored.Tell(next, EvaluateMixed(next));
        }
    }

    [TestMethod]
    public void AskWithoutTellRepeatsTheOutstandingCandidate()
    {
        Optimizer optimizer = OptimizerRun.Create("", MixedProblem(), 1);
        double[] candidate = optimizer.Ask();
        CollectionAssert.AreEqual(candidate, optimizer.Ask());
    }

    [TestMethod]
    public void AskKeepsAnsweringOnceEveryCandidateWasEvaluated()
    {
        // Four possible candidates, 30 asks: every method must still propose (repeats), never hang or throw.
        var problem = new OptimizationProblem([DecisionVariable.Bool("b1"), DecisionVariable.Bool("b2")], [], maximize: true, 4);
        foreach (string method in OptimizationMethods.Known)
        {
            OptimizerRun run = OptimizerRun.Drive(method, problem, 1, x => new Evaluation(x[0] + (2 * x[1]), [], Succeeded: true), 30);
            Assert.IsTrue(run.Candidates.All(x => x.All(v => v is 0 or 1)), method);
            Assert.AreEqual(3, run.Best().Evaluation.Objective, method);
        }
    }

    [TestMethod]
    public void OnlyFixedMvsStillGetValidCandidates()
    {
        var problem = new OptimizationProblem([DecisionVariable.Continuous("x", 3, 3), DecisionVariable.Create("b", VariableType.Bool, 0, 0)], [], maximize: false, 5);
        foreach (string method in OptimizationMethods.Known)
        {
            OptimizerRun run = OptimizerRun.Drive(method, problem, 1, x => new Evaluation(x[0], [], Succeeded: true), 8);
            Assert.IsTrue(run.Candidates.All(x => x[0] == 3 && x[1] == 0), method);
        }
    }

    [TestMethod]
    public void OriginalNamesAreAcceptedCaseInsensitivelyAndUnknownNamesRejected()
    {
        OptimizationProblem problem = MixedProblem();
        CollectionAssert.AreEqual(new[] { "GaussOpt", "SimulatedAnnealingOpt", "EvolutionaryOpt", "TestStepOpt", "Genetic_Algo" }, OptimizationMethods.Known.Take(5).ToArray());
        foreach (string name in OptimizationMethods.Known.Concat(["", "gaussopt", "GENETIC_ALGO", "testStepOpt", "trustregion", "nelder" + "mead"]))
        {
            Assert.IsTrue(Optimizer.TryCreate(name, problem, 1, out Optimizer? optimizer), name);
            Assert.IsNotNull(optimizer);
        }

        Assert.IsFalse(Optimizer.TryCreate("NoSuchOpt", problem, 1, out Optimizer? unknown));
        Assert.IsNull(unknown);
        Assert.IsFalse(Optimizer.TryCreate("Gauss Opt", problem, 1, out _));
    }
}
