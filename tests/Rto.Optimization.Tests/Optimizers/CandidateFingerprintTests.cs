using System.Security.Cryptography;
using Rto.Optimization.Models;

namespace Rto.Optimization.Tests.Optimizers;

/// <summary>
/// Every method's candidates are pinned: a session file restored after an upgrade replays its
/// evaluations through the new optimizer, and only the same candidates let it continue where it was
/// (the server counts and logs replay mismatches). A change here is a change of every method's
/// path: when it is meant, update the fingerprint and say so in the commit and docs/performance.md.
/// The values were computed by the server's optimizers before they moved into this package (commit
/// 1a556c6), the same SHA-256 over the same runs; the trust region's was re-pinned when issue 14 changed
/// its models and subproblem (see docs/performance.md).
/// </summary>
[TestClass]
public sealed class CandidateFingerprintTests
{
    [TestMethod]
    [DataRow(OptimizationMethods.TrustRegion, "69CEF36BF436DA79")]
    [DataRow(OptimizationMethods.NelderMead, "35E21F2FB65C8328")]
    [DataRow(OptimizationMethods.PatternSearch, "2688E755FEF62F0D")]
    [DataRow(OptimizationMethods.DifferentialEvolution, "0FCBA265949C1C34")]
    [DataRow(OptimizationMethods.GeneticAlgorithm, "F9D777A4A44B3CE8")]
    [DataRow(OptimizationMethods.SimulatedAnnealing, "C2D9B36E38A0B764")]
    public void CandidatesAreTheSameAsWhenTheyWerePinned(string method, string fingerprint)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        for (int seed = 1; seed <= 5; seed++)
        {
            foreach ((OptimizationProblem problem, Func<double[], int, Evaluation> evaluate) in Problems())
            {
                Optimizer optimizer = Optimizer.Create(method, problem, seed);
                for (int i = 0; i < 60; i++)
                {
                    double[] x = optimizer.Ask();
                    foreach (double v in x)
                    {
                        hash.AppendData(BitConverter.GetBytes(v));
                    }

                    optimizer.Tell(x, evaluate(x, i));
                }
            }
        }

        string actual = Convert.ToHexString(hash.GetHashAndReset())[..16];
        Assert.AreEqual(fingerprint, actual, $"{method}: the candidates now fingerprint as {actual}");
    }

    /// <summary>An active limit with failed evaluations, and mixed variable types with a missing constraint value.</summary>
    private static IEnumerable<(OptimizationProblem, Func<double[], int, Evaluation>)> Problems()
    {
        BuiltInModel constrained = BuiltInModels.All.Single(m => m.Id == "parabola4-constrained");
        yield return (constrained.CreateProblem(60), (x, i) => i % 17 == 5 ? Evaluation.Failed(3) : constrained.EvaluateCandidate(x));
        var mixed = new OptimizationProblem(
            [DecisionVariable.Continuous("a", -1, 2), DecisionVariable.Integer("n", -3.5, 4.2), DecisionVariable.Bool("b"), DecisionVariable.Continuous("fixed", 5, 5)],
            [Constraint.AtMost("c", 2), Constraint.AtLeast("d", -1)],
            maximize: true,
            maxEvaluations: 60);
        yield return (mixed, (x, i) => new Evaluation(
            -((x[0] - 1.3) * (x[0] - 1.3)) - (0.5 * (x[1] - 2) * (x[1] - 2)) + x[2],
            [x[0] + (0.5 * x[1]), i % 7 == 3 ? double.NaN : x[0] - x[2]]));
    }
}
