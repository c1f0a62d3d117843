using Grpc.Net.Client;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>OptimizeIteration, Pause and Stop semantics, one rule per test, through a real gRPC channel.</summary>
[TestClass]
public sealed class RtoIterationTests
{
    private static TestServer s_server = null!;
    private static GrpcChannel s_channel = null!;
    private static RtoService.RtoServiceClient s_rto = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context)
    {
        s_server = await TestServer.StartAsync();
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
    public async Task CandidatesHaveFlag0OneTagPerMvAndRespectBoundsAndTypes()
    {
        var request = new StartRequest { MaxIterations = 30 };
        request.Mvs.Add(Mv("n", -1.5, 2.5));
        request.Mvs.Add(Mv("i", 0.5, 3.5, "Integer"));
        request.Mvs.Add(Mv("flag", 0, 1, "Bool"));
        string session = await StartAsync(s_rto, request);
        ulong before = (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds();

        OptimizeIterationResponse response = await s_rto.OptimizeIterationAsync(Ask(session));
        for (int k = 0; k < 29; k++)
        {
            Assert.AreEqual(0, response.Flag, response.Message);
            Assert.AreEqual(session, response.SessionId);
            CollectionAssert.AreEqual(new[] { "n", "i", "flag" }, response.MvValues.Select(v => v.TagId).ToArray());
            Assert.IsTrue(response.MvValues.All(v => v.IsGood));
            Assert.IsTrue(response.MvValues.All(v => v.TimeStamp >= before && v.TimeStamp <= (ulong)DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()));
            double[] x = Values(response);
            Assert.IsTrue(x[0] is >= -1.5 and <= 2.5, $"n = {x[0]}");
            Assert.IsTrue(x[1] is 1 or 2 or 3, $"i = {x[1]}");
            Assert.IsTrue(x[2] is 0 or 1, $"flag = {x[2]}");
            response = await s_rto.OptimizeIterationAsync(Report(session, x[0]));
        }
    }

    [TestMethod]
    public async Task CvValuesAreMatchedByTagIdAndUnknownTagsIgnored()
    {
        var request = SimpleStart(3);
        request.Cvs.Add(Cv("d", 10, 20));
        string session = await StartAsync(s_rto, request);
        await s_rto.OptimizeIterationAsync(Ask(session));

        // Reported in the other order, with a tag the session does not know.
        await s_rto.OptimizeIterationAsync(Report(session, 1, true, ("d", 15), ("zzz", 99), ("c", 0.5)));

        string line = EvaluationLines(SessionFile(s_server, session)).Single();
        StringAssert.Contains(line, "\tcv=0.5;15\t");
        StringAssert.Contains(line, "\tok\tfeasible\t");
    }

    [TestMethod]
    public async Task AMissingOrFailedEvaluationIsInfeasible()
    {
        string session = await StartAsync(s_rto, SimpleStart(3));
        await s_rto.OptimizeIterationAsync(Ask(session));
        await s_rto.OptimizeIterationAsync(Report(session, 1, ok: false, ("c", 0.5)));
        await s_rto.OptimizeIterationAsync(Report(session, 1, ok: true)); // CV c not reported

        string[] lines = EvaluationLines(SessionFile(s_server, session));
        StringAssert.Contains(lines[0], "\tfailed\tinfeasible\t");
        StringAssert.Contains(lines[1], "\tcv=NaN\t");
        StringAssert.Contains(lines[1], "\tok\tinfeasible\t");
    }

    [TestMethod]
    public async Task ACallWithoutValuesRepeatsTheOutstandingCandidate()
    {
        string session = await StartAsync(s_rto, SimpleStart(5));
        double[] first = Values(await s_rto.OptimizeIterationAsync(Ask(session)));
        double[] again = Values(await s_rto.OptimizeIterationAsync(Ask(session)));
        double[] second = Values(await s_rto.OptimizeIterationAsync(Report(session, 1, true, ("c", 0.5))));
        double[] secondAgain = Values(await s_rto.OptimizeIterationAsync(Ask(session)));

        CollectionAssert.AreEqual(first, again);
        CollectionAssert.AreNotEqual(first, second);
        CollectionAssert.AreEqual(second, secondAgain);
        Assert.HasCount(1, EvaluationLines(SessionFile(s_server, session)), "retries are not evaluations");
    }

    [TestMethod]
    public async Task AfterTheBudgetTheBestFeasiblePointComesWithFlag3AndIsRepeated()
    {
        string session = await StartAsync(s_rto, SimpleStart(5));
        double[][] candidates = new double[5][];
        (double Objective, double Cv)[] results = [(5, 0.5), (3, 0.5), (1, 7), (4, 0.5), (2, 0.5)]; // minimize; #3 is the lowest but infeasible
        candidates[0] = Values(await s_rto.OptimizeIterationAsync(Ask(session)));
        OptimizeIterationResponse response = null!;
        for (int k = 0; k < 5; k++)
        {
            response = await s_rto.OptimizeIterationAsync(Report(session, results[k].Objective, true, ("c", results[k].Cv)));
            if (k < 4)
            {
                Assert.AreEqual(0, response.Flag);
                candidates[k + 1] = Values(response);
            }
        }

        Assert.AreEqual(3, response.Flag);
        Assert.AreEqual("Optimization completed", response.Message);
        CollectionAssert.AreEqual(candidates[4], Values(response));

        OptimizeIterationResponse later = await s_rto.OptimizeIterationAsync(Report(session, -100, true, ("c", 0.5)));
        Assert.AreEqual(3, later.Flag);
        Assert.AreEqual("Optimization completed", later.Message);
        CollectionAssert.AreEqual(candidates[4], Values(later));
        Assert.HasCount(5, EvaluationLines(SessionFile(s_server, session)));
    }

    [TestMethod]
    public async Task WithNoFeasiblePointTheLeastViolatingOneIsReturnedAndSaidSo()
    {
        string session = await StartAsync(s_rto, SimpleStart(3));
        double[] first = Values(await s_rto.OptimizeIterationAsync(Ask(session)));
        double[] second = Values(await s_rto.OptimizeIterationAsync(Report(session, 1, true, ("c", 9))));
        await s_rto.OptimizeIterationAsync(Report(session, 1, true, ("c", 1.5)));
        OptimizeIterationResponse final = await s_rto.OptimizeIterationAsync(Report(session, 1, true, ("c", -4)));

        Assert.AreEqual(3, final.Flag);
        StringAssert.Contains(final.Message, "no feasible point was found");
        CollectionAssert.AreEqual(second, Values(final), "c = 1.5 violates [0, 1] least");
        CollectionAssert.AreNotEqual(first, second);
    }

    [TestMethod]
    public async Task PauseThenPauseAgainThenResumeWithFlag1AndTheSameCandidate()
    {
        string session = await StartAsync(s_rto, SimpleStart(5));
        double[] candidate = Values(await s_rto.OptimizeIterationAsync(Ask(session)));

        PauseResponse paused = await s_rto.PauseAsync(new PauseRequest { SessionId = session });
        PauseResponse again = await s_rto.PauseAsync(new PauseRequest { SessionId = session });
        OptimizeIterationResponse resumed = await s_rto.OptimizeIterationAsync(Ask(session));
        OptimizeIterationResponse next = await s_rto.OptimizeIterationAsync(Report(session, 1, true, ("c", 0.5)));

        Assert.IsTrue(paused.IsPaused);
        Assert.IsTrue(again.IsPaused);
        StringAssert.Contains(again.Message, "already paused");
        Assert.AreEqual(IterationFlag.Candidate, resumed.Flag, "the original server answered 0 after a pause");
        StringAssert.Contains(resumed.Message, "resumed");
        CollectionAssert.AreEqual(candidate, Values(resumed));
        Assert.AreEqual(0, next.Flag);
    }

    [TestMethod]
    public async Task AResumeCallMayCarryTheEvaluationAndGetsTheNextCandidate()
    {
        string session = await StartAsync(s_rto, SimpleStart(5));
        double[] candidate = Values(await s_rto.OptimizeIterationAsync(Ask(session)));
        await s_rto.PauseAsync(new PauseRequest { SessionId = session });

        OptimizeIterationResponse resumed = await s_rto.OptimizeIterationAsync(Report(session, 1, true, ("c", 0.5)));

        Assert.AreEqual(IterationFlag.Candidate, resumed.Flag);
        StringAssert.Contains(resumed.Message, "resumed");
        CollectionAssert.AreNotEqual(candidate, Values(resumed));
        Assert.HasCount(1, EvaluationLines(SessionFile(s_server, session)));
        string[] lines = File.ReadAllLines(SessionFile(s_server, session));
        Assert.AreEqual(1, lines.Count(l => l.StartsWith("pause\t", StringComparison.Ordinal)));
        Assert.AreEqual(1, lines.Count(l => l.StartsWith("resume\t", StringComparison.Ordinal)));
    }

    [TestMethod]
    public async Task StopDeletesTheSessionAndItsFile()
    {
        string session = await StartAsync(s_rto, SimpleStart());
        await s_rto.OptimizeIterationAsync(Ask(session));
        Assert.IsTrue(File.Exists(SessionFile(s_server, session)));

        StopResponse stopped = await s_rto.StopAsync(new StopRequest { SessionId = session });

        StringAssert.Contains(stopped.Message, "stopped");
        Assert.IsFalse(File.Exists(SessionFile(s_server, session)));
        Assert.AreEqual(IterationFlag.OriginalUnknownSession, (await s_rto.OptimizeIterationAsync(Ask(session))).Flag);
    }

    [TestMethod]
    [DataRow("not-a-guid")]
    [DataRow("")]
    [DataRow("3f2504e0-4f89-11d3-9a0c-0305e82c3301")]
    public async Task UnknownSessionsAreSaidSoByIteratePauseAndStop(string session)
    {
        OptimizeIterationResponse iteration = await s_rto.OptimizeIterationAsync(Report(session, 1));
        PauseResponse pause = await s_rto.PauseAsync(new PauseRequest { SessionId = session });
        StopResponse stop = await s_rto.StopAsync(new StopRequest { SessionId = session });

        Assert.AreEqual(IterationFlag.OriginalUnknownSession, iteration.Flag, "the original server's value");
        Assert.IsEmpty(iteration.MvValues);
        StringAssert.Contains(iteration.Message, "Unknown session");
        Assert.IsFalse(pause.IsPaused);
        StringAssert.Contains(pause.Message, "Unknown session");
        StringAssert.Contains(stop.Message, "Unknown session");
    }
}
