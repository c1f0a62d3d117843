using Rto.Optimization;
using Rto.Server.Optimization;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>The session file format on its own: what goes in comes back bit for bit.</summary>
[TestClass]
public sealed class RtoSessionFileTests
{
    [TestMethod]
    public void HeaderAndEvaluationsRoundTripAwkwardIdsAndDoubles()
    {
        string directory = TestServer.NewDataDirectory();
        var problem = new OptimizationProblem(
            [DecisionVariable.Integer("a\tb%c", -3, 7) with { Name = "name with\nnewline" }, DecisionVariable.Continuous("x", 0.1, 0.30000000000000004)],
            [Constraint.Create("cv", double.MinValue, 1e-300) with { Name = "CV" }, Constraint.Create("free", double.MinValue, double.MaxValue)],
            maximize: true, maxEvaluations: 9);
        var definition = new SessionDefinition(Guid.NewGuid(), new DateTimeOffset(2026, 11, 23, 13, 0, 0, TimeSpan.Zero), "GaussOpt", "parabola4", 1234567, problem);
        SessionFile file = SessionFile.Create(directory, definition);
        double[] mvs = [2, 0.1 + 0.2];
        var evaluation = new Evaluation(-0.0 + (1.0 / 3), [double.Epsilon, double.NaN], Succeeded: false);
        file.Append(SessionFile.FormatEvaluation(new EvaluationRecord(1, mvs, evaluation), feasible: false, DateTimeOffset.UtcNow, 1, evaluation.Objective));
        file.Append(SessionFile.FormatEvent("pause", DateTimeOffset.UtcNow));

        (_, SessionDefinition read, List<SessionRecord> records, string? dropped) = SessionFile.Open(file.Path);

        Assert.IsNull(dropped);
        Assert.AreEqual(definition.Id, read.Id);
        Assert.AreEqual(definition.Created, read.Created);
        Assert.AreEqual("parabola4", read.ModelId);
        Assert.AreEqual(1234567, read.Seed);
        Assert.IsTrue(read.Problem.Maximize);
        CollectionAssert.AreEqual(problem.Variables.ToArray(), read.Problem.Variables.ToArray());
        CollectionAssert.AreEqual(problem.Constraints.ToArray(), read.Problem.Constraints.ToArray());
        Assert.HasCount(2, records);
        var recorded = (EvaluationRecord)records[0];
        CollectionAssert.AreEqual(mvs, recorded.Mvs);
        Assert.AreEqual(evaluation.Objective, recorded.Evaluation.Objective);
        Assert.AreEqual(double.Epsilon, recorded.Evaluation.ConstraintValues[0]);
        Assert.IsTrue(double.IsNaN(recorded.Evaluation.ConstraintValues[1]));
        Assert.IsFalse(recorded.Evaluation.Succeeded);
        Assert.IsInstanceOfType<PauseRecord>(records[1]);
    }
}
