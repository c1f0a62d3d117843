using Grpc.Net.Client;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>Calls on one session are serialized; different sessions run independently.</summary>
[TestClass]
public sealed class RtoConcurrencyTests
{
    [TestMethod]
    public async Task ThirtyTwoParallelReportsOnOneSessionCountExactlyTheBudget()
    {
        await using TestServer server = await TestServer.StartAsync();
        using GrpcChannel channel = Channel(server);
        RtoService.RtoServiceClient rto = RtoServiceOf(channel);
        string session = await StartAsync(rto, SimpleStart(20));
        await rto.OptimizeIterationAsync(Ask(session));

        OptimizeIterationResponse[] responses = await Task.WhenAll(Enumerable.Range(0, 32).Select(k =>
            rto.OptimizeIterationAsync(Report(session, k, true, ("c", 0.5))).ResponseAsync));

        // Each report evaluates whatever candidate is outstanding when its turn comes: 19 get the
        // next candidate, the 20th completes the session, the other 12 find it completed.
        Assert.AreEqual(19, responses.Count(r => r.Flag == 0));
        Assert.AreEqual(13, responses.Count(r => r.Flag == 3));
        string[] lines = EvaluationLines(SessionFile(server, session));
        CollectionAssert.AreEqual(Enumerable.Range(1, 20).Select(i => i.ToString(System.Globalization.CultureInfo.InvariantCulture)).ToArray(), lines.Select(l => l.Split('\t')[1]).ToArray());
        Assert.AreEqual(1, responses.Where(r => r.Flag == 3).Select(r => string.Join(";", Values(r))).Distinct().Count());
    }

    [TestMethod]
    public async Task AHundredSessionsRunToCompletionInParallel()
    {
        await using TestServer server = await TestServer.StartAsync();
        using GrpcChannel channel = Channel(server);
        RtoService.RtoServiceClient rto = RtoServiceOf(channel);

        string[][] firstCandidates = await Task.WhenAll(Enumerable.Range(0, 100).Select(async _ =>
        {
            string session = await StartAsync(rto, SimpleStart(10));
            OptimizeIterationResponse response = await rto.OptimizeIterationAsync(Ask(session));
            string first = string.Join(";", Values(response));
            int evaluations = 0;
            while (response.Flag == 0)
            {
                double[] x = Values(response);
                response = await rto.OptimizeIterationAsync(Report(session, (x[0] * x[0]) + (x[1] * x[1]), true, ("c", 0.5)));
                evaluations++;
            }

            Assert.AreEqual(3, response.Flag);
            Assert.AreEqual(10, evaluations);
            Assert.HasCount(10, EvaluationLines(SessionFile(server, session)));
            return new[] { session, first };
        }));

        Assert.AreEqual(100, firstCandidates.Select(s => s[0]).Distinct().Count());
        Assert.IsGreaterThan(90, firstCandidates.Select(s => s[1]).Distinct().Count(), "sessions get their own seeds");
    }
}
