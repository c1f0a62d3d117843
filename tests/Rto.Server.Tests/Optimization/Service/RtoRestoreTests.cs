using Grpc.Core;
using Grpc.Net.Client;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>Sessions survive a server restart: restored from their files on the same data directory.</summary>
[TestClass]
public sealed class RtoRestoreTests
{
    [TestMethod]
    public async Task TheOutstandingCandidateAndTheCountSurviveARestart()
    {
        string data = TestServer.NewDataDirectory();
        string session;
        double[] outstanding;
        await using (TestServer server = await TestServer.StartAsync(data))
        {
            using GrpcChannel channel = Channel(server);
            RtoService.RtoServiceClient rto = RtoServiceOf(channel);
            session = await StartAsync(rto, SimpleStart(5));
            await rto.OptimizeIterationAsync(Ask(session));
            for (int k = 0; k < 2; k++)
            {
                await rto.OptimizeIterationAsync(Report(session, 10 - k, true, ("c", 0.5)));
            }

            outstanding = Values(await rto.OptimizeIterationAsync(Report(session, 1, true, ("c", 0.5))));
        }

        await using (TestServer restarted = await TestServer.StartAsync(data))
        {
            using GrpcChannel channel = Channel(restarted);
            RtoService.RtoServiceClient rto = RtoServiceOf(channel);
            OptimizeIterationResponse again = await rto.OptimizeIterationAsync(Ask(session));
            Assert.AreEqual(0, again.Flag);
            CollectionAssert.AreEqual(outstanding, Values(again));

            // 3 evaluations before the restart: the 5th completes the session, with the best (1) of before.
            Assert.AreEqual(0, (await rto.OptimizeIterationAsync(Report(session, 50, true, ("c", 0.5)))).Flag);
            OptimizeIterationResponse final = await rto.OptimizeIterationAsync(Report(session, 60, true, ("c", 0.5)));
            Assert.AreEqual(3, final.Flag);
        }

        await using (TestServer third = await TestServer.StartAsync(data))
        {
            using GrpcChannel channel = Channel(third);
            OptimizeIterationResponse stillDone = await RtoServiceOf(channel).OptimizeIterationAsync(Ask(session));
            Assert.AreEqual(3, stillDone.Flag, "a completed session stays completed");
            Assert.AreEqual("Optimization completed", stillDone.Message);
        }
    }

    [TestMethod]
    public async Task AnIterationThatFailsLeavesTheFileUnchangedAndTheSessionContinuesAfterARestart()
    {
        string data = TestServer.NewDataDirectory();
        string session;
        double[] second, third;
        await using (TestServer server = await TestServer.StartAsync(data))
        {
            using GrpcChannel channel = Channel(server);
            RtoService.RtoServiceClient rto = RtoServiceOf(channel);
            session = await StartAsync(rto, SimpleStart(10));
            await rto.OptimizeIterationAsync(Ask(session));
            second = Values(await rto.OptimizeIterationAsync(Report(session, 3, true, ("c", 0.5))));
            string path = SessionFile(server, session);
            byte[] before = File.ReadAllBytes(path);

            // The file cannot be written (another process holds it): the evaluation is not accepted.
            RpcException refused;
            using (new FileStream(path, FileMode.Open, FileAccess.ReadWrite, FileShare.None))
            {
                refused = await Assert.ThrowsExactlyAsync<RpcException>(() => rto.OptimizeIterationAsync(Report(session, 2, true, ("c", 0.5))).ResponseAsync);
            }

            Assert.AreEqual(StatusCode.Unavailable, refused.StatusCode);
            StringAssert.Contains(refused.Status.Detail, "not recorded");
            CollectionAssert.AreEqual(before, File.ReadAllBytes(path), "a failed iteration writes nothing");
            CollectionAssert.AreEqual(second, Values(await rto.OptimizeIterationAsync(Ask(session))), "the session is as before the failed call");
            third = Values(await rto.OptimizeIterationAsync(Report(session, 2, true, ("c", 0.5))));
            Assert.HasCount(2, EvaluationLines(path));
        }

        await using TestServer restarted = await TestServer.StartAsync(data);
        using GrpcChannel again = Channel(restarted);
        OptimizeIterationResponse resumed = await RtoServiceOf(again).OptimizeIterationAsync(Ask(session));
        Assert.AreEqual(IterationFlag.Candidate, resumed.Flag, resumed.Message);
        CollectionAssert.AreEqual(third, Values(resumed), "the restarted session continues where it was");
    }

    [TestMethod]
    public async Task EvaluationsSurviveAKillNineOfTheServerProcess()
    {
        string data = TestServer.NewDataDirectory();
        string session;
        double[] outstanding;
        await using (ServerProcess server = await ServerProcess.StartAsync(data))
        {
            using GrpcChannel channel = GrpcChannel.ForAddress($"http://{await server.OptimizationEndPointAsync}");
            RtoService.RtoServiceClient rto = RtoServiceOf(channel);
            session = await StartAsync(rto, SimpleStart(4));
            await rto.OptimizeIterationAsync(Ask(session));
            await rto.OptimizeIterationAsync(Report(session, 2, true, ("c", 0.5)));
            outstanding = Values(await rto.OptimizeIterationAsync(Report(session, 1, true, ("c", 0.5))));
            await server.KillAsync();
        }

        await using ServerProcess restarted = await ServerProcess.StartAsync(data);
        using GrpcChannel again = GrpcChannel.ForAddress($"http://{await restarted.OptimizationEndPointAsync}");
        RtoService.RtoServiceClient client = RtoServiceOf(again);
        CollectionAssert.AreEqual(outstanding, Values(await client.OptimizeIterationAsync(Ask(session))));
        Assert.AreEqual(0, (await client.OptimizeIterationAsync(Report(session, 5, true, ("c", 0.5)))).Flag);
        Assert.AreEqual(3, (await client.OptimizeIterationAsync(Report(session, 6, true, ("c", 0.5)))).Flag, "2 + 2 evaluations complete a budget of 4");
    }

    [TestMethod]
    public async Task APausedSessionStaysPausedAcrossARestart()
    {
        string data = TestServer.NewDataDirectory();
        string session;
        double[] candidate;
        await using (TestServer server = await TestServer.StartAsync(data))
        {
            using GrpcChannel channel = Channel(server);
            RtoService.RtoServiceClient rto = RtoServiceOf(channel);
            session = await StartAsync(rto, SimpleStart(5));
            candidate = Values(await rto.OptimizeIterationAsync(Ask(session)));
            await rto.PauseAsync(new PauseRequest { SessionId = session });
        }

        await using TestServer restarted = await TestServer.StartAsync(data);
        using GrpcChannel again = Channel(restarted);
        RtoService.RtoServiceClient client = RtoServiceOf(again);
        StringAssert.Contains((await client.PauseAsync(new PauseRequest { SessionId = session })).Message, "already paused");
        OptimizeIterationResponse resumed = await client.OptimizeIterationAsync(Ask(session));
        Assert.AreEqual(IterationFlag.Candidate, resumed.Flag);
        StringAssert.Contains(resumed.Message, "resumed");
        CollectionAssert.AreEqual(candidate, Values(resumed));
    }

    [TestMethod]
    public async Task ACutShortLastLineIsIgnoredAndTheFileStaysAppendable()
    {
        string data = TestServer.NewDataDirectory();
        string session;
        double[] outstanding;
        string path;
        await using (TestServer server = await TestServer.StartAsync(data))
        {
            using GrpcChannel channel = Channel(server);
            RtoService.RtoServiceClient rto = RtoServiceOf(channel);
            session = await StartAsync(rto, SimpleStart(5));
            await rto.OptimizeIterationAsync(Ask(session));
            outstanding = Values(await rto.OptimizeIterationAsync(Report(session, 3, true, ("c", 0.5))));
            path = SessionFile(server, session);
        }

        await File.AppendAllTextAsync(path, "evaluation\t2\t2026-11-23T00:00:00.0000000Z\tmv=1.25;-0.");

        await using (TestServer restarted = await TestServer.StartAsync(data))
        {
            using GrpcChannel channel = Channel(restarted);
            RtoService.RtoServiceClient rto = RtoServiceOf(channel);
            CollectionAssert.AreEqual(outstanding, Values(await rto.OptimizeIterationAsync(Ask(session))));
            await rto.OptimizeIterationAsync(Report(session, 2, true, ("c", 0.5)));
        }

        string[] lines = EvaluationLines(path);
        Assert.HasCount(2, lines);
        StringAssert.StartsWith(lines[1], "evaluation\t2\t");
        StringAssert.Contains(lines[1], "\tobjective=2\t");
    }

    [TestMethod]
    public async Task ADamagedHeaderIsMovedAsideAndTheServerStillStarts()
    {
        string data = TestServer.NewDataDirectory();
        string sessions = Path.Combine(data, "rto", "sessions");
        Directory.CreateDirectory(sessions);
        string bad = Path.Combine(sessions, Guid.NewGuid().ToString("D") + ".session");
        await File.WriteAllTextAsync(bad, "# rto optimization session\nid: not-a-guid\nmax_iterations: ten\n");

        await using TestServer server = await TestServer.StartAsync(data);
        using GrpcChannel channel = Channel(server);

        Assert.IsFalse(File.Exists(bad));
        Assert.IsTrue(File.Exists(bad + ".bad"));
        Assert.AreEqual("Running", (await RtoServiceOf(channel).GetServiceStatusAsync(new ArgRequest())).Status);
    }
}
