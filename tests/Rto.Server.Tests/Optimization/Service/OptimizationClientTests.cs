using System.Net;
using System.Net.Sockets;
using Grpc.Core;
using Rto.Client;
using Rto.Client.Optimization;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>The optimization client against the real service: a whole run, refusals, connect failures, access tokens.</summary>
[TestClass]
public sealed class OptimizationClientTests
{
    private static TestServer s_server = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context) => s_server = await TestServer.StartAsync();

    [ClassCleanup]
    public static async Task StopServer() => await s_server.DisposeAsync();

    [TestMethod]
    public async Task RunsParabola4ToCompletionThroughCalculateCv()
    {
        await using var client = await OptimizationClient.ConnectAsync("127.0.0.1", s_server.OptimizationEndPoint.Port);
        ManipulatedVariable[] mvs = [.. new[] { "x1", "x2", "x3", "x4" }.Select(x => new ManipulatedVariable(x, -10, 10))];
        var definition = new OptimizationSessionDefinition(mvs, [new ControlledVariable("y", Lower: -1000)], MaxIterations: 40) { Maximize = true, ModelId = "parabola4" };
        string session = await client.StartAsync(definition);
        var reports = new List<OptimizationRunProgress>();
        double bestSeen = double.NegativeInfinity;

        OptimizationRunResult result = await client.RunAsync(session, ["y"], async (x, ct) =>
        {
            OptimizationModelResult model = await client.CalculateCvAsync(session, new Dictionary<string, double> { ["x1"] = x[0], ["x2"] = x[1], ["x3"] = x[2], ["x4"] = x[3] }, cancellationToken: ct);
            bestSeen = Math.Max(bestSeen, model.Objective);
            return (model.Objective, [model.Cvs["y"]], model.Succeeded);
        }, new SynchronousProgress(reports.Add));

        Assert.AreEqual(40, result.Evaluations);
        Assert.HasCount(40, reports);
        Assert.IsTrue(result.IsFeasible, result.Message);
        Assert.HasCount(4, result.Mvs);
        OptimizationModelResult best = await client.CalculateCvAsync(session, new Dictionary<string, double> { ["x1"] = result.Mvs[0], ["x2"] = result.Mvs[1], ["x3"] = result.Mvs[2], ["x4"] = result.Mvs[3] });
        Assert.AreEqual(bestSeen, best.Objective, 1e-9, "the answer is the best point evaluated");
        Assert.AreEqual(OptimizationIterationState.Completed, (await client.IterateAsync(session, null)).State);
    }

    [TestMethod]
    public async Task RefusalsAreRejectedWithTheServerMessage()
    {
        await using var client = await OptimizationClient.ConnectAsync("127.0.0.1", s_server.OptimizationEndPoint.Port);

        OptimizationClientException refused = await Assert.ThrowsExactlyAsync<OptimizationClientException>(() => client.StartAsync(new OptimizationSessionDefinition([], [], 10)));
        OptimizationClientException unknown = await Assert.ThrowsExactlyAsync<OptimizationClientException>(() => client.IterateAsync(Guid.NewGuid().ToString(), null));

        StringAssert.Contains(refused.Message, "no MVs");
        StringAssert.Contains(unknown.Message, "Unknown session");
        Assert.AreEqual(ClientErrorKind.Rejected, refused.ErrorKind);
        Assert.AreEqual(ClientErrorKind.Rejected, unknown.ErrorKind);
        Assert.AreEqual(StatusCode.OK, refused.StatusCode, "the server answered; the call itself did not fail");
    }

    [TestMethod]
    public async Task ConnectingToNothingFailsWithConnectFailed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        int port = ((IPEndPoint)listener.LocalEndpoint).Port;
        listener.Stop();

        OptimizationClientException error = await Assert.ThrowsExactlyAsync<OptimizationClientException>(
            () => OptimizationClient.ConnectAsync("127.0.0.1", port, new OptimizationClientOptions { ConnectTimeout = TimeSpan.FromSeconds(10) }));
        Assert.AreEqual(ClientErrorKind.ConnectFailed, error.ErrorKind);
    }

    [TestMethod]
    public async Task TheAccessTokenGoesWithEveryCall()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Optimization:AccessTokens:0=secret");
        await using var denied = await OptimizationClient.ConnectAsync("127.0.0.1", server.OptimizationEndPoint.Port, new OptimizationClientOptions { AccessToken = "wrong" });
        await using var allowed = await OptimizationClient.ConnectAsync("127.0.0.1", server.OptimizationEndPoint.Port, new OptimizationClientOptions { AccessToken = "secret" });

        OptimizationClientException error = await Assert.ThrowsExactlyAsync<OptimizationClientException>(() => denied.GetStatusAsync());
        Assert.AreEqual(ClientErrorKind.Rejected, error.ErrorKind);
        Assert.AreEqual(StatusCode.PermissionDenied, error.StatusCode);
        Assert.AreEqual("Running", (await allowed.GetStatusAsync()).Status);
    }

    private sealed class SynchronousProgress(Action<OptimizationRunProgress> report) : IProgress<OptimizationRunProgress>
    {
        public void Report(OptimizationRunProgress value) => report(value);
    }
}
