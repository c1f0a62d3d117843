using Grpc.Core;
using Grpc.Net.Client;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>DataProcessingService.CalculateCV on the built-in parabola4 model (<see cref="OptimizationClientTests"/> drives it through the client).</summary>
[TestClass]
public sealed class RtoModelTests
{
    private static TestServer s_server = null!;
    private static GrpcChannel s_channel = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context)
    {
        s_server = await TestServer.StartAsync();
        s_channel = Channel(s_server);
    }

    [ClassCleanup]
    public static async Task StopServer()
    {
        s_channel.Dispose();
        await s_server.DisposeAsync();
    }

    [TestMethod]
    public async Task CalculateCvEvaluatesTheSessionModelForTheSessionCvs()
    {
        string session = await StartAsync(RtoServiceOf(s_channel), Parabola4Start(10));
        var request = new CalculateCVRequest { SessionId = session };
        request.MvValues.Add(Tags(("x4", 1), ("x1", 3), ("x2", -3), ("x3", 2)));

        CalculateCVResponse response = await new DataProcessingService.DataProcessingServiceClient(s_channel).CalculateCVAsync(request);

        // 10 - 1 - 0 - 4 - 0
        Assert.IsTrue(response.IsGood, response.Message);
        Assert.AreEqual(session, response.SessionId);
        Assert.AreEqual(5, response.Objective.NumericValue, 1e-12);
        Assert.AreEqual("y", response.CvValues.Single().TagId);
        Assert.AreEqual(5, response.CvValues.Single().NumericValue, 1e-12);
    }

    [TestMethod]
    public async Task CalculateCvEvaluatesTheFormulaModelAFirstStartWrites()
    {
        StartRequest start = Parabola4Start(10, modelId: "reactor");
        start.Cvs.Clear();
        start.Cvs.Add(Cv("temperature", double.MinValue, 380));
        start.Cvs.Add(Cv("pressure", 0, 12));
        string session = await StartAsync(RtoServiceOf(s_channel), start);
        var request = new CalculateCVRequest { SessionId = session };
        request.MvValues.Add(Tags(("x1", 2), ("x2", -3), ("x3", 4), ("x4", 1)));

        CalculateCVResponse response = await new DataProcessingService.DataProcessingServiceClient(s_channel).CalculateCVAsync(request);

        Assert.IsTrue(response.IsGood, response.Message);
        Assert.AreEqual(10, response.Objective.NumericValue, 1e-12);
        Assert.AreEqual(350 + 16 + 6 + 12, response.CvValues.Single(v => v.TagId == "temperature").NumericValue, 1e-12);
        Assert.AreEqual(5 + 1 + 1.6 - (0.05 * Math.Sqrt(3)), response.CvValues.Single(v => v.TagId == "pressure").NumericValue, 1e-12);
    }

    [TestMethod]
    [DataRow("unknown session", StatusCode.NotFound)]
    [DataRow("unknown model", StatusCode.NotFound)]
    [DataRow("no model", StatusCode.FailedPrecondition)]
    [DataRow("missing MV", StatusCode.InvalidArgument)]
    public async Task CalculateCvMistakesAreGrpcErrors(string mistake, StatusCode expected)
    {
        string session = await StartAsync(RtoServiceOf(s_channel), Parabola4Start(10, modelId: mistake == "no model" ? "" : "parabola4"));
        var request = new CalculateCVRequest { SessionId = mistake == "unknown session" ? Guid.NewGuid().ToString() : session, ModelId = mistake == "unknown model" ? "nope" : "" };
        request.MvValues.Add(Tags(("x1", 0), ("x2", 0), ("x3", 0)));
        if (mistake != "missing MV")
        {
            request.MvValues.Add(Tags(("x4", 0)));
        }

        RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(() => new DataProcessingService.DataProcessingServiceClient(s_channel).CalculateCVAsync(request).ResponseAsync);
        Assert.AreEqual(expected, error.StatusCode, error.Status.Detail);
    }

    private static IEnumerable<TagVal> Tags(params (string Id, double Value)[] values) =>
        values.Select(v => new TagVal { TagId = v.Id, NumericValue = v.Value, IsGood = true });
}
