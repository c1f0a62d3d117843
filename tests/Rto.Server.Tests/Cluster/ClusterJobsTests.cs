using System.Diagnostics;
using Rto.Client.Jobs;
using Rto.Protocols.Jobs;
using Rto.Server.Jobs;
using Rto.Server.Tests.Jobs;

namespace Rto.Server.Tests.Cluster;

/// <summary>
/// Jobs on several Rto nodes over JetStream (real processes): one queue for the cluster, a job runs
/// on a node with a free slot and is answered on the node that accepted it, a job of a node killed
/// mid-run runs again on another node, and the Info requests count the whole cluster.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ClusterJobsTests
{
    [TestMethod]
    public async Task AJobAcceptedByANodeWithoutSlotsRunsOnAnotherAndIsAnsweredWhereItWasAsked()
    {
        string directory = WriteSample();
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(1);
        await using ClusterNodes accepting = await ClusterNodes.StartAsync(nats, 1, [.. JobSettings(directory), "--Jobs:ClusterRunJobs=false", "--Cluster:NodeName=acceptor"]);
        await using ClusterNodes running = await ClusterNodes.StartAsync(nats, 1, JobSettings(directory));

        JobResponse done = await JobsClient.SendOnceAsync(accepting[0].JobsEndPoint, new JobRequest { Directory = directory, Base = "time_series.parquet", File = "stats.task" });
        Assert.IsTrue(done.IsComplete, done.DiscriptionText);
        Assert.AreEqual("stats_ansver.parquet", done.GetResult()?.File);
        Assert.IsTrue(File.Exists(Path.Combine(directory, "stats_ansver.parquet")));
        StringAssert.Contains(running[0].Output, "stats.task taken from the cluster queue (delivery 1)");
        Assert.IsFalse(accepting[0].Output.Contains("taken from the cluster queue", StringComparison.Ordinal), "the node without slots runs nothing");

        // Both nodes count: each one process plus its connections (the asking one here).
        string all = "";
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(10) && all != "All process: 3")
        {
            all = (await JobsClient.SendOnceAsync(accepting[0].JobsEndPoint, InfoRequests.AllProcess)).DiscriptionText;
            await Task.Delay(200);
        }

        Assert.AreEqual("All process: 3", all);
        Assert.AreEqual("Status: Ready", (await JobsClient.SendOnceAsync(running[0].JobsEndPoint, InfoRequests.Status)).DiscriptionText);
    }

    [TestMethod]
    public async Task AJobOfANodeKilledMidRunRunsAgainOnAnotherNodeAndItsClientGetsTheAnswer()
    {
        string directory = WriteSample();
        File.WriteAllText(Path.Combine(directory, "endless.sql"), JobsCancellationTests.EndlessSql);
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(1);
        await using ClusterNodes accepting = await ClusterNodes.StartAsync(nats, 1, [.. JobSettings(directory), "--Jobs:ClusterRunJobs=false", "--Cluster:NodeName=acceptor"]);

        // The job never ends by itself: the second node's time limit answers it, which shows where it ran.
        await using ClusterNodes workers = await ClusterNodes.StartAsync(nats, 2, [.. JobSettings(directory), "--Jobs:Timeout=00:00:06"]);
        Task<JobResponse> asked = JobsClient.SendOnceAsync(accepting[0].JobsEndPoint, new JobRequest { Directory = directory, Base = "time_series.parquet", File = "endless.sql" },
            new JobsClientOptions { RequestTimeout = TimeSpan.FromSeconds(60) });

        int first = await WhichTakesAsync(workers, "(delivery 1)");

        // The accepting node runs nothing itself, yet counts the job running on a worker.
        string dask = "";
        var clock = Stopwatch.StartNew();
        const string working = "All statistic: Status: Work Dask process: 1 All process: ";
        while (clock.Elapsed < TimeSpan.FromSeconds(3) && !dask.StartsWith(working, StringComparison.Ordinal))
        {
            dask = (await JobsClient.SendOnceAsync(accepting[0].JobsEndPoint, InfoRequests.AllStatistic)).DiscriptionText;
            await Task.Delay(100);
        }

        await workers[first].KillAsync();
        StringAssert.StartsWith(dask, working);
        Assert.IsGreaterThanOrEqualTo(3, int.Parse(dask[working.Length..], System.Globalization.CultureInfo.InvariantCulture), "every node counts at least its own process");
        JobResponse answer = await asked.WaitAsync(TimeSpan.FromSeconds(40));

        Assert.IsFalse(answer.IsComplete);
        StringAssert.Contains(answer.DiscriptionText, "Jobs:Timeout");
        ServerProcess survivor = workers[1 - first];
        StringAssert.Contains(survivor.Output, "endless.sql taken from the cluster queue (delivery 2)");
        Assert.AreEqual(1, survivor.Output.Split("taken from the cluster queue").Length - 1, "the survivor ran the job once");
    }

    private static string[] JobSettings(string directory) =>
        ["--Jobs:Enabled=true", $"--Jobs:DataRoots:0={directory}", "--Jobs:SampleDirectory=", "--Jobs:ClusterAckWait=00:00:02", "--Jobs:MaxParallelJobs=1"];

    private static string WriteSample()
    {
        string directory = Path.Combine(TestServer.NewDataDirectory(), "shared-jobs");
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), 64);
        File.WriteAllText(Path.Combine(directory, "stats.task"), "stats values\n");
        return directory;
    }

    private static async Task<int> WhichTakesAsync(ClusterNodes nodes, string delivery)
    {
        var clock = Stopwatch.StartNew();
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            for (int i = 0; i < nodes.Count; i++)
            {
                if (nodes[i].Output.Contains(delivery, StringComparison.Ordinal))
                {
                    return i;
                }
            }

            await Task.Delay(50);
        }

        Assert.Fail($"no node took the job {delivery}");
        return -1;
    }
}
