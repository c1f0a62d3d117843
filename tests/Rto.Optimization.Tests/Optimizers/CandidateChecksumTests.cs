using System.Security.Cryptography;
using Rto.Optimization.Models;

namespace Rto.Optimization.Tests.Optimizers;

/// <summary>
/// The long form of <see cref="CandidateFingerprintTests"/>: 50 seeds × 100 evaluations of five
/// problems per method — an active limit with failed evaluations, whole numbers and bools, mixed
/// types with a missing constraint value, and both plant problems (a dozen two-sided limits, the
/// subproblem's linear and curved paths) — hashed with SHA-256. A CPU optimisation of a method must
/// leave this unchanged; a deliberate change of a method's path re-pins it in a commit that says so
/// (docs/performance.md records each re-pin).
/// </summary>
[TestClass]
public sealed class CandidateChecksumTests
{
    [TestMethod]
    [DataRow(OptimizationMethods.TrustRegion, "28F7E4C5730C50C7")]
    [DataRow(OptimizationMethods.NelderMead, "9370337C5BDDDC10")]
    [DataRow(OptimizationMethods.PatternSearch, "940A9C9795495B0D")]
    [DataRow(OptimizationMethods.DifferentialEvolution, "2F0E7EBC86EE2DF4")]
    [DataRow(OptimizationMethods.GeneticAlgorithm, "C708F0F29E42E615")]
    [DataRow(OptimizationMethods.SimulatedAnnealing, "24408187F3811D75")]
    public void FiftySeedsOfAHundredEvaluationsHashAsPinned(string method, string checksum)
    {
        string actual = Checksum(method);
        Assert.AreEqual(checksum, actual, $"{method}: the candidates now hash as {actual}");
    }

    /// <summary>SHA-256 (first 16 hex digits) of every candidate of every run, in order.</summary>
    public static string Checksum(string method, int seeds = 50, int evaluations = 100)
    {
        using var hash = IncrementalHash.CreateHash(HashAlgorithmName.SHA256);
        Span<byte> bytes = stackalloc byte[8];
        foreach ((OptimizationProblem problem, Func<double[], int, Evaluation> evaluate) in Problems(evaluations))
        {
            for (int seed = 1; seed <= seeds; seed++)
            {
                Optimizer optimizer = Optimizer.Create(method, problem, seed);
                for (int i = 0; i < evaluations; i++)
                {
                    double[] x = optimizer.Ask();
                    foreach (double v in x)
                    {
                        BitConverter.TryWriteBytes(bytes, v);
                        hash.AppendData(bytes);
                    }

                    optimizer.Tell(x, evaluate(x, i));
                }
            }
        }

        return Convert.ToHexString(hash.GetHashAndReset())[..16];
    }

    private static IEnumerable<(OptimizationProblem, Func<double[], int, Evaluation>)> Problems(int budget)
    {
        BuiltInModel constrained = BuiltInModels.All.Single(m => m.Id == "parabola4-constrained");
        yield return (constrained.CreateProblem(budget), (x, i) => i % 17 == 5 ? Evaluation.Failed(3) : constrained.EvaluateCandidate(x));
        BuiltInModel intbool = BuiltInModels.All.Single(m => m.Id == "intbool");
        yield return (intbool.CreateProblem(budget), (x, _) => intbool.EvaluateCandidate(x));
        var mixed = new OptimizationProblem(
            [DecisionVariable.Continuous("a", -1, 2), DecisionVariable.Integer("n", -3.5, 4.2), DecisionVariable.Bool("b"), DecisionVariable.Continuous("fixed", 5, 5)],
            [Constraint.AtMost("c", 2), Constraint.AtLeast("d", -1)],
            maximize: true,
            maxEvaluations: budget);
        yield return (mixed, (x, i) => new Evaluation(
            -((x[0] - 1.3) * (x[0] - 1.3)) - (0.5 * (x[1] - 2) * (x[1] - 2)) + x[2],
            [x[0] + (0.5 * x[1]), i % 7 == 3 ? double.NaN : x[0] - x[2]]));
        foreach (string plant in (string[])["plant6-linear", "plant8-nonlinear"])
        {
            BuiltInModel model = BuiltInModels.All.Single(m => m.Id == plant);
            yield return (model.CreateProblem(budget), (x, _) => model.EvaluateCandidate(x));
        }
    }
}
