using System.Diagnostics;
using Rto.Client;
using Rto.Client.Jobs;
using Rto.Protocols.Jobs;

namespace Rto.Server.Tests.Jobs;

[TestClass]
public sealed class JobsClientTests
{
    private static readonly JobsClientOptions s_fast = new() { ConnectTimeout = TimeSpan.FromSeconds(2), RequestTimeout = TimeSpan.FromMilliseconds(500) };

    [TestMethod]
    public async Task OneShotModeWorksLikeTheOriginalClients()
    {
        await using TestServer server = await TestServer.StartAsync();
        JobResponse status = await JobsClient.SendOnceAsync(server.JobsEndPoint, InfoRequests.Status);
        Assert.IsTrue(status.IsComplete);
        Assert.AreEqual("Status: Ready", status.DiscriptionText);

        JobResponse job = await JobsClient.SendOnceAsync(server.JobsEndPoint, new JobRequest { Directory = Path.Combine(server.JobsRoot, "sample"), Base = "time_series.parquet", File = "fft.task" });
        Assert.IsTrue(job.IsComplete, job.DiscriptionText);
        Assert.AreEqual("fft_ansver.parquet", job.GetResult()?.File);
    }

    [TestMethod]
    public async Task MultiRequestModeKeepsOneConnection()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using var client = await JobsClient.ConnectAsync("127.0.0.1", server.JobsEndPoint.Port);
        Assert.AreEqual("All process: 2", (await client.InfoAsync(InfoRequests.AllProcess)).DiscriptionText);

        JobResponse failed = await client.RunAsync(new JobRequest { Directory = "/", Base = "x.parquet", File = "x.sql" });
        Assert.IsFalse(failed.IsComplete);
        StringAssert.Contains(failed.DiscriptionText, "outside the server's data roots");

        JobResponse done = await client.RunAsync(new JobRequest { Directory = Path.Combine(server.JobsRoot, "sample"), Base = "time_series.parquet", File = "work.sql" });
        Assert.AreEqual("work_ansver.parquet", done.GetResult()?.File, done.DiscriptionText);
        Assert.AreEqual("All statistic: Status: Ready Dask process: 0 All process: 2", (await client.InfoAsync(InfoRequests.AllStatistic)).DiscriptionText);
    }

    [TestMethod]
    public async Task NoServerIsConnectFailed()
    {
        await using TestServer server = await TestServer.StartAsync();
        var endPoint = server.JobsEndPoint;
        await server.DisposeAsync();
        JobsClientException error = await Assert.ThrowsExactlyAsync<JobsClientException>(() => JobsClient.SendOnceAsync(endPoint, InfoRequests.Status));
        Assert.AreEqual(ClientErrorKind.ConnectFailed, error.ErrorKind);
    }

    [TestMethod]
    public async Task AReplyThatIsNotJsonIsAProtocolViolation()
    {
        await using FakeServer fake = FakeServer.Start("<html>");
        await using var client = await JobsClient.ConnectAsync(fake.EndPoint, s_fast);

        JobsClientException error = await Assert.ThrowsExactlyAsync<JobsClientException>(() => client.InfoAsync(InfoRequests.Status));
        Assert.AreEqual(ClientErrorKind.ProtocolViolation, error.ErrorKind);
        StringAssert.StartsWith(error.Message, "The reply is not JSON");
    }

    [TestMethod]
    public async Task AReplyWithoutAResponseIsAProtocolViolation()
    {
        await using FakeServer fake = FakeServer.Start("""{"Header":"Info"}""");
        await using var client = await JobsClient.ConnectAsync(fake.EndPoint, s_fast);

        JobsClientException error = await Assert.ThrowsExactlyAsync<JobsClientException>(() => client.InfoAsync(InfoRequests.Status));
        Assert.AreEqual(ClientErrorKind.ProtocolViolation, error.ErrorKind);
        Assert.AreEqual("The reply has no Response with a Status.", error.Message);
    }

    [TestMethod]
    public async Task ASilentServerTimesOutWithinTheRequestTimeout()
    {
        await using FakeServer fake = FakeServer.Start(reply: null);
        await using var client = await JobsClient.ConnectAsync(fake.EndPoint, s_fast);

        var clock = Stopwatch.StartNew();
        JobsClientException error = await Assert.ThrowsExactlyAsync<JobsClientException>(() => client.InfoAsync(InfoRequests.Status));
        Assert.AreEqual(ClientErrorKind.Timeout, error.ErrorKind);
        Assert.IsLessThan(TimeSpan.FromSeconds(5), clock.Elapsed);
    }

    [TestMethod]
    public async Task AServerThatClosesBeforeReplyingIsConnectionLost()
    {
        await using FakeServer fake = FakeServer.Start(reply: null, closeOnRequest: true);
        await using var client = await JobsClient.ConnectAsync(fake.EndPoint, s_fast);

        JobsClientException error = await Assert.ThrowsExactlyAsync<JobsClientException>(() => client.InfoAsync(InfoRequests.Status));
        Assert.AreEqual(ClientErrorKind.ConnectionLost, error.ErrorKind);
    }
}
