using Grpc.Core;
using Grpc.Net.Client;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Cluster;

/// <summary>
/// RTO sessions on several Rto nodes over JetStream (real processes): any node serves any session,
/// a session continues on another node after its owner was killed with the candidates an
/// uninterrupted run gives, and nodes racing for one session never both own it.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ClusterOptimizationTests
{
    /// <summary>One fixed seed on every node, so two sessions of one problem propose the same candidates; a short lease keeps takeovers quick.</summary>
    private static readonly string[] Settings = ["--Optimization:Enabled=true", "--Optimization:Seed=7", "--Optimization:ClusterLease=00:00:02"];

    [TestMethod]
    public async Task ASessionContinuesOnAnotherNodeAfterItsOwnerIsKilledWithTheCandidatesOfAnUninterruptedRun()
    {
        const int budget = 12;
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 2, Settings);
        using GrpcChannel a = Channel(nodes[0]), b = Channel(nodes[1]);
        RtoService.RtoServiceClient onA = RtoServiceOf(a), onB = RtoServiceOf(b);

        // The reference: one session, every call on node A.
        List<double[]> uninterrupted = await RunAsync(onA, await StartAsync(onA, SimpleStart(budget)), budget, _ => ValueTask.FromResult(onA));

        // The same problem again: started on A, some calls through B (forwarded to the owner A),
        // A killed mid-session, the rest on B, which takes the session over and replays it.
        string session = await StartAsync(onA, SimpleStart(budget));
        List<double[]> failedOver = await RunAsync(onA, session, budget, async step =>
        {
            if (step == 5)
            {
                await nodes[0].KillAsync();
            }

            return step is 2 or 3 || step >= 5 ? onB : onA;
        });

        Assert.AreEqual(budget + 1, uninterrupted.Count);
        for (int i = 0; i < uninterrupted.Count; i++)
        {
            CollectionAssert.AreEqual(uninterrupted[i], failedOver[i], $"candidate {i} differs after the failover\n{nodes[1].Output}");
        }

        StringAssert.Contains(nodes[1].Output, "took the lease over from node0");
        Assert.AreEqual(3, (await onB.OptimizeIterationAsync(Ask(session))).Flag, "the session stays completed");
        Assert.AreEqual($"Session {session} stopped and deleted", (await onB.StopAsync(new StopRequest { SessionId = session })).Message);
        Assert.AreEqual(IterationFlag.OriginalUnknownSession, (await onB.OptimizeIterationAsync(Ask(session))).Flag, "a stopped session is unknown");
    }

    [TestMethod]
    public async Task TwoNodesRacingForASessionNeverBothOwnIt()
    {
        const int perNode = 8;
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(1);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 3, Settings);
        using GrpcChannel a = Channel(nodes[0]), b = Channel(nodes[1]), c = Channel(nodes[2]);
        RtoService.RtoServiceClient onA = RtoServiceOf(a);
        RtoService.RtoServiceClient[] racers = [RtoServiceOf(b), RtoServiceOf(c)];
        string session = await StartAsync(onA, SimpleStart(2 * perNode));
        await onA.OptimizeIterationAsync(Ask(session));
        await nodes[0].KillAsync();

        // Both remaining nodes report at once, as soon as A's lease has ended and after: one takes the
        // session over, the other forwards to it. Two owners would each append from the same state:
        // an evaluation lost or counted twice, or a refused append.
        var flags = new List<int>();
        await Task.WhenAll(racers.Select(async rto =>
        {
            for (int i = 0; i < perNode; i++)
            {
                OptimizeIterationResponse reply = await rto.OptimizeIterationAsync(Report(session, i, true, ("c", 0.5)), deadline: DateTime.UtcNow.AddSeconds(20));
                lock (flags)
                {
                    flags.Add(reply.Flag);
                }
            }
        }));

        Assert.AreEqual(2 * perNode, flags.Count);
        Assert.AreEqual(1, flags.Count(f => f == 3), "exactly the last of the budget's evaluations completes the session: " + string.Join(",", flags));
        Assert.AreEqual(2 * perNode - 1, flags.Count(f => f == 0));
        foreach (RtoService.RtoServiceClient rto in racers)
        {
            Assert.AreEqual(3, (await rto.OptimizeIterationAsync(Ask(session))).Flag);
        }

        int takeovers = (nodes[1].Output.Contains("took the lease over", StringComparison.Ordinal) ? 1 : 0) + (nodes[2].Output.Contains("took the lease over", StringComparison.Ordinal) ? 1 : 0);
        Assert.AreEqual(1, takeovers, "one node took the session over; the other forwarded to it");
    }

    [TestMethod]
    public async Task AnUnknownSessionIsUnknownOnEveryNodeAndStartWorksAnywhere()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(1);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 2, Settings);
        using GrpcChannel a = Channel(nodes[0]), b = Channel(nodes[1]);
        RtoService.RtoServiceClient onA = RtoServiceOf(a), onB = RtoServiceOf(b);
        string unknown = Guid.NewGuid().ToString("D");
        Assert.AreEqual(IterationFlag.OriginalUnknownSession, (await onB.OptimizeIterationAsync(Ask(unknown))).Flag);
        Assert.AreEqual($"Unknown session '{unknown}'", (await onA.StopAsync(new StopRequest { SessionId = unknown })).Message);

        string session = await StartAsync(onB, SimpleStart(3));
        double[] first = Values(await onA.OptimizeIterationAsync(Ask(session)));
        CollectionAssert.AreEqual(first, Values(await onB.OptimizeIterationAsync(Ask(session))), "both nodes answer from the one owner");
        Assert.IsTrue((await onA.PauseAsync(new PauseRequest { SessionId = session })).IsPaused);
        OptimizeIterationResponse resumed = await onB.OptimizeIterationAsync(Report(session, 1, true, ("c", 0.5)));
        Assert.AreEqual(IterationFlag.Candidate, resumed.Flag);
        StringAssert.Contains(resumed.Message, "resumed", "resumed after the pause made through the other node");
        RpcException notFound = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
            await new DataProcessingService.DataProcessingServiceClient(a).CalculateCVAsync(new CalculateCVRequest { SessionId = unknown }));
        Assert.AreEqual(StatusCode.NotFound, notFound.StatusCode);
    }

    /// <summary>
    /// Asks for the first candidate, then reports a fixed function of each candidate until the budget
    /// is spent; returns every candidate answered and the final answer. <paramref name="node"/> picks
    /// the node for each call (step 0 = the first ask).
    /// </summary>
    private static async Task<List<double[]>> RunAsync(RtoService.RtoServiceClient first, string session, int budget, Func<int, ValueTask<RtoService.RtoServiceClient>> node)
    {
        var candidates = new List<double[]>();
        OptimizeIterationResponse reply = await first.OptimizeIterationAsync(Ask(session));
        for (int step = 1; ; step++)
        {
            Assert.IsTrue(reply.Flag is 0 or 3, $"step {step}: flag {reply.Flag} {reply.Message}");
            double[] mvs = Values(reply);
            candidates.Add(mvs);
            if (reply.Flag == 3 || step > budget + 1)
            {
                return candidates;
            }

            double objective = ((mvs[0] - 1) * (mvs[0] - 1)) + ((mvs[1] + 2) * (mvs[1] + 2));
            RtoService.RtoServiceClient rto = await node(step);
            reply = await rto.OptimizeIterationAsync(Report(session, objective, true, ("c", 0.5)), deadline: DateTime.UtcNow.AddSeconds(20));
        }
    }

    private static GrpcChannel Channel(ServerProcess node) => GrpcChannel.ForAddress($"http://{node.EndPoint("optimization")}");
}
