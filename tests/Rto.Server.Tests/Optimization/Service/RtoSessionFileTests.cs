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

    [TestMethod]
    [DataRow(double.NegativeInfinity, double.NegativeInfinity)]
    [DataRow(double.PositiveInfinity, double.PositiveInfinity)]
    public void AConstraintWithAnInfiniteLimitBeyondItsNoLimitSideRestores(double lower, double upper)
    {
        // Found by the session-file fuzz target: a CV the service accepts with bounds [-inf, -inf]
        // was written as "no limit" / "-Infinity" and read back as [MinValue, -inf], which is
        // refused, so the session failed to restore ("damaged header") after a restart.
        string directory = TestServer.NewDataDirectory();
        var problem = new OptimizationProblem([DecisionVariable.Continuous("x", 0, 1)], [Constraint.Create("cv", lower, upper)], maximize: false, maxEvaluations: 5);
        var definition = new SessionDefinition(Guid.NewGuid(), new DateTimeOffset(2026, 11, 27, 7, 0, 0, TimeSpan.Zero), "GaussOpt", "parabola4", 1, problem);
        SessionFile file = SessionFile.Create(directory, definition);

        (_, SessionDefinition read, _, string? dropped) = SessionFile.Open(file.Path);

        Assert.IsNull(dropped);
        Constraint cv = read.Problem.Constraints.Single();
        Assert.AreEqual(problem.Constraints[0].HasLower, cv.HasLower);
        Assert.AreEqual(problem.Constraints[0].HasUpper, cv.HasUpper);
        Assert.AreEqual(SessionFile.FormatHeader(definition), SessionFile.FormatHeader(read));
    }

    [TestMethod]
    public void AByteThatIsNotUtf8EndsTheFileThereAndAppendsContinueRightAfterTheLastGoodLine()
    {
        // Found by the session-file fuzz target: the file was decoded with U+FFFD for bad bytes and
        // the good length counted back from that text, so a restart cut the file (or appended)
        // at the wrong place and lost the evaluations written after it.
        string directory = TestServer.NewDataDirectory();
        var problem = new OptimizationProblem([DecisionVariable.Continuous("x", 0, 1)], [], maximize: false, maxEvaluations: 5);
        var definition = new SessionDefinition(Guid.NewGuid(), new DateTimeOffset(2026, 11, 27, 7, 0, 0, TimeSpan.Zero), "GaussOpt", "parabola4", 1, problem);
        SessionFile file = SessionFile.Create(directory, definition);
        file.Append(SessionFile.FormatEvent("pause", DateTimeOffset.UtcNow));
        long good = new FileInfo(file.Path).Length;
        File.AppendAllBytes(file.Path, [.. "resume\t"u8, 0xFF, 0xFE, .. "\npause\tx\n"u8]);

        (SessionFile reopened, _, List<SessionRecord> records, string? dropped) = SessionFile.Open(file.Path);

        Assert.IsInstanceOfType<PauseRecord>(records.Single());
        Assert.IsNotNull(dropped);
        Assert.AreEqual(good, new FileInfo(file.Path).Length, "cut back to the end of the last good line");
        reopened.Append(SessionFile.FormatEvent("resume", DateTimeOffset.UtcNow));
        (_, _, List<SessionRecord> after, string? droppedAfter) = SessionFile.Open(file.Path);
        Assert.IsNull(droppedAfter);
        Assert.HasCount(2, after);
        Assert.IsInstanceOfType<ResumeRecord>(after[1]);
    }
}
