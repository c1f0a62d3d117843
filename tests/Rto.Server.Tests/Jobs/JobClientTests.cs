using Rto.Client.Jobs;
using Rto.Protocols.Jobs;

namespace Rto.Server.Tests.Jobs;

[TestClass]
public sealed class JobClientTests
{
    [TestMethod]
    public async Task OneShotModeWorksLikeTheOriginalClients()
    {
        await using TestServer server = await TestServer.StartAsync();
        JobResponse status = await JobClient.SendOnceAsync(server.JobsEndPoint, InfoRequests.Status);
        Assert.IsTrue(status.IsComplete);
        Assert.AreEqual("Status: Ready", status.DiscriptionText);

        JobResponse job = await JobClient.SendOnceAsync(server.JobsEndPoint, new JobRequest { Directory = Path.Combine(server.JobsRoot, "sample"), Base = "time_series.parquet", File = "fft.task" });
        Assert.IsTrue(job.IsComplete, job.DiscriptionText);
        Assert.AreEqual("fft_ansver.parquet", job.GetResult()?.File);
    }

    [TestMethod]
    public async Task MultiRequestModeKeepsOneConnection()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using JobClient client = await JobClient.ConnectAsync(server.JobsEndPoint);
        Assert.AreEqual("All process: 2", (await client.InfoAsync(InfoRequests.AllProcess)).DiscriptionText);

        JobResponse failed = await client.RunAsync(new JobRequest { Directory = "/", Base = "x.parquet", File = "x.sql" });
        Assert.IsFalse(failed.IsComplete);
        StringAssert.Contains(failed.DiscriptionText, "outside the server's data roots");

        JobResponse done = await client.RunAsync(new JobRequest { Directory = Path.Combine(server.JobsRoot, "sample"), Base = "time_series.parquet", File = "work.sql" });
        Assert.AreEqual("work_ansver.parquet", done.GetResult()?.File, done.DiscriptionText);
        Assert.AreEqual("All statistic: Status: Ready Dask process: 0 All process: 2", (await client.InfoAsync(InfoRequests.AllStatistic)).DiscriptionText);
    }

    [TestMethod]
    public async Task NoServerIsAClientException()
    {
        await using TestServer server = await TestServer.StartAsync();
        var endPoint = server.JobsEndPoint;
        await server.DisposeAsync();
        await Assert.ThrowsAsync<JobClientException>(() => JobClient.SendOnceAsync(endPoint, InfoRequests.Status));
    }
}
