using Grpc.Core;
using Grpc.Net.Client;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>
/// What the original RTO service's clients send works unchanged through the real server: the client
/// shaped like the original one runs to completion and ends feasible, values are matched by tagId,
/// by position and through the objective's tagId as the original server matched them.
/// </summary>
[TestClass]
public sealed class RtoOriginalClientTests
{
    private static TestServer s_server = null!;
    private static GrpcChannel s_channel = null!;
    private static RtoService.RtoServiceClient s_rto = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context)
    {
        // The original server seeded every session with 1546: the runs below are reproducible.
        s_server = await TestServer.StartAsync(null, "--Optimization:MaxIterations=5000", "--Optimization:Seed=1546");
        s_channel = Channel(s_server);
        s_rto = RtoServiceOf(s_channel);
    }

    [ClassCleanup]
    public static async Task StopServer()
    {
        s_channel.Dispose();
        await s_server.DisposeAsync();
    }

    [TestMethod]
    public async Task TheOriginalClientWithGeneticAlgoEndsFeasibleOnAllThirteenCvLimits()
    {
        var client = new OriginalRtoClient(s_rto);
        double[] best = await client.RunAsync("Genetic_Algo", maxIterations: 1000);

        double[] outputs = OriginalRtoClient.Evaluate(best);
        Assert.AreEqual(1000, client.Evaluations);
        CollectionAssert.AreEqual(Array.Empty<string>(), OriginalRtoClient.BrokenLimits(outputs), string.Join("; ", OriginalRtoClient.BrokenLimits(outputs)));
    }

    [TestMethod]
    public async Task TheOriginalClientWithTheDefaultMethodReaches99PercentOfTheLpOptimumFeasibly()
    {
        // The client unchanged but for the method ("" = the default) and a smaller budget: NLopt's
        // COBYLA needs 34 evaluations on this problem to be feasible within 1% of the optimum; the
        // default gets there in 15-16 (seeds 1-4 and 1546), so 20 leaves a margin.
        var client = new OriginalRtoClient(s_rto);
        double[] best = await client.RunAsync("", maxIterations: 20);

        double[] outputs = OriginalRtoClient.Evaluate(best);
        CollectionAssert.AreEqual(Array.Empty<string>(), OriginalRtoClient.BrokenLimits(outputs), string.Join("; ", OriginalRtoClient.BrokenLimits(outputs)));
        Assert.IsGreaterThanOrEqualTo(0.99 * OriginalRtoClient.LpOptimum, outputs[0], $"profit {outputs[0]} of the LP optimum {OriginalRtoClient.LpOptimum}");
    }

    [TestMethod]
    public async Task TheObjectiveReportedUnderACvsTagIdIsThatCvsValue()
    {
        string session = await StartAsync(s_rto, OriginalRtoClient.StartRequest("TestStepOpt", 3));
        await s_rto.OptimizeIterationAsync(Ask(session));

        var report = new OptimizeIterationRequest
        {
            OptimizationInstanceId = session,
            ObjectiveFunctionValue = new TagVal { TagId = OriginalRtoClient.TargetId, NumericValue = 1234.5 },
        };
        report.CvValues.AddRange(Enumerable.Range(1, 13).Select(i => new TagVal { TagId = $"cv{i}", NumericValue = Middle(i) }));
        await s_rto.OptimizeIterationAsync(report);

        string line = EvaluationLines(SessionFile(s_server, session)).Single();
        StringAssert.Contains(line, "\tcv=1234.5;");
        StringAssert.Contains(line, "\tobjective=1234.5\tok\tfeasible\t", "no isGood, no timeStamp: the original client's values are good; ±1e100 is no limit");
    }

    [TestMethod]
    public async Task ValuesWithoutTagIdsAreMatchedByPositionAfterTheObjective()
    {
        string session = await StartAsync(s_rto, OriginalRtoClient.StartRequest("TestStepOpt", 3));
        await s_rto.OptimizeIterationAsync(Ask(session));

        // The original server put the objective in front of the reported CVs and matched by index.
        var report = new OptimizeIterationRequest { OptimizationInstanceId = session, ObjectiveFunctionValue = new TagVal { NumericValue = 7 } };
        report.CvValues.AddRange(Enumerable.Range(1, 13).Select(i => new TagVal { NumericValue = Middle(i) }));
        await s_rto.OptimizeIterationAsync(report);

        string line = EvaluationLines(SessionFile(s_server, session)).Single();
        StringAssert.Contains(line, $"\tcv=7;{Format(Middle(1))};{Format(Middle(2))};");
        StringAssert.Contains(line, "\tobjective=7\tok\tfeasible\t");
    }

    [TestMethod]
    public async Task CvValuesWithoutAnObjectiveAreAnEvaluationWhoseObjectiveIsTheFirstCv()
    {
        string session = await StartAsync(s_rto, OriginalRtoClient.StartRequest("TestStepOpt", 3));
        double[] first = Values(await s_rto.OptimizeIterationAsync(Ask(session)));

        var report = new OptimizeIterationRequest { OptimizationInstanceId = session };
        report.CvValues.Add(new TagVal { NumericValue = 99 });
        report.CvValues.AddRange(Enumerable.Range(1, 13).Select(i => new TagVal { NumericValue = Middle(i) }));
        OptimizeIterationResponse next = await s_rto.OptimizeIterationAsync(report);

        string line = EvaluationLines(SessionFile(s_server, session)).Single();
        StringAssert.Contains(line, "\tobjective=99\tok\tfeasible\t");
        CollectionAssert.AreNotEqual(first, Values(next), "an evaluation, not a retry: the next candidate");
    }

    [TestMethod]
    public async Task ModelIdIsALabelAndOnlyCalculateCvNeedsAModel()
    {
        string session = await StartAsync(s_rto, OriginalRtoClient.StartRequest("", 10));

        var calculate = new CalculateCVRequest { SessionId = session };
        calculate.MvValues.AddRange(Enumerable.Range(1, 6).Select(i => new TagVal { TagId = $"mv{i}", NumericValue = 1 }));
        RpcException refused = await Assert.ThrowsExactlyAsync<RpcException>(() => new DataProcessingService.DataProcessingServiceClient(s_channel).CalculateCVAsync(calculate).ResponseAsync);

        Assert.AreEqual(StatusCode.NotFound, refused.StatusCode);
        StringAssert.Contains(refused.Status.Detail, "no model 'optimization_model' on this server");
        StringAssert.Contains(refused.Status.Detail, "parabola4");
    }

    [TestMethod]
    public async Task MaxIterationsZeroRunsUntilStopWithinTheServerLimit()
    {
        StartRequest request = SimpleStart();
        request.MaxIterations = 0;
        string session = await StartAsync(s_rto, request);

        await s_rto.OptimizeIterationAsync(Ask(session));
        for (int i = 0; i < 20; i++)
        {
            Assert.AreEqual(IterationFlag.Candidate, (await s_rto.OptimizeIterationAsync(Report(session, i, true, ("c", 0.5)))).Flag);
        }

        CollectionAssert.Contains(File.ReadAllLines(SessionFile(s_server, session)), "max_iterations: 5000", "the server's Optimization:MaxIterations bounds it");
        StringAssert.Contains((await s_rto.StopAsync(new StopRequest { SessionId = session })).Message, "stopped");
    }

    [TestMethod]
    [DataRow("Boolean", "Bool")]
    [DataRow("bool", "Bool")]
    [DataRow("Double", "Numeric")]
    [DataRow("float", "Numeric")]
    [DataRow("REAL", "Numeric")]
    [DataRow("numeric", "Numeric")]
    [DataRow("Int", "Integer")]
    [DataRow("integer", "Integer")]
    public async Task TheOriginalsDataTypeNamesStartASession(string dataType, string recordedAs)
    {
        StartRequest request = SimpleStart();
        request.Mvs.Add(Mv("x", 0, 1, dataType));
        request.Cvs[0].DataType = dataType;
        string session = await StartAsync(s_rto, request);

        CollectionAssert.Contains(File.ReadAllLines(SessionFile(s_server, session)), $"mv\tx\tx\t{recordedAs}\t0\t1");
        double x = Values(await s_rto.OptimizeIterationAsync(Ask(session)))[2];
        Assert.IsTrue(recordedAs == "Numeric" || x is 0 or 1, $"{dataType}: {x}");
    }

    private static double Middle(int cv) =>
        OriginalRtoClient.StartRequest("").Cvs[cv] is { } tag ? (tag.LowerBound + tag.UpperBound) / 2 : double.NaN;

    private static string Format(double value) => value.ToString("R", System.Globalization.CultureInfo.InvariantCulture);
}
