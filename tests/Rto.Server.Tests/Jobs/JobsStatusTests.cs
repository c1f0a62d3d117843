using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rto.Protocols.Jobs;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

[TestClass]
public sealed class JobsStatusTests
{
    /// <summary>Holds every job in the running state until released.</summary>
    private sealed class GatedObserver : JobRunObserver
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task OnJobStartingAsync(JobRequest request, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            await Release.Task.WaitAsync(cancellationToken);
        }
    }

    private static async Task<string> InfoAsync(TestServer server, string request) =>
        JsonDocument.Parse(await JobsExchange.OneShotAsync(server, $$$"""{"Header":"Info","Request":"{{{request}}}"}""")).RootElement.GetProperty("Response").GetProperty("Discription").GetString()!;

    [TestMethod]
    public async Task StatusIsWorkWhileAJobRunsAndReadyAfterIt()
    {
        var gate = new GatedObserver();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Services.AddSingleton<JobRunObserver>(gate));
        string sample = Path.Combine(server.JobsRoot, "sample");
        Assert.AreEqual("Status: Ready", await InfoAsync(server, "Status"));

        Task<string> job = JobsExchange.OneShotAsync(server, JsonSerializer.Serialize(new { Header = "Dask", Request = new { Directory = sample, Base = "time_series.parquet", File = "stats.task" } }));
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(15));

        Assert.AreEqual("Status: Work", await InfoAsync(server, "Status"));
        Assert.AreEqual("Dask process: 1", await InfoAsync(server, "Dask process"));
        Assert.AreEqual("All process: 3", await InfoAsync(server, "All process"), "the server, the job's connection and ours");
        Assert.AreEqual("All statistic: Status: Work Dask process: 1 All process: 3", await InfoAsync(server, "All statistic"));

        gate.Release.SetResult();
        StringAssert.Contains(await job.WaitAsync(TimeSpan.FromSeconds(15)), "\"Status\":\"complete\"");
        Assert.AreEqual("Status: Ready", await InfoAsync(server, "Status"));
        Assert.AreEqual("Dask process: 0", await InfoAsync(server, "Dask process"));
    }

    [TestMethod]
    public async Task AJobBeyondTheQueueIsRefused()
    {
        var gate = new GatedObserver();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Services.AddSingleton<JobRunObserver>(gate), "--Jobs:MaxParallelJobs=1", "--Jobs:QueueCapacity=0");
        string request = JsonSerializer.Serialize(new { Header = "Dask", Request = new { Directory = Path.Combine(server.JobsRoot, "sample"), Base = "time_series.parquet", File = "stats.task" } });
        Task<string> first = JobsExchange.OneShotAsync(server, request);
        await gate.Started.Task.WaitAsync(TimeSpan.FromSeconds(15));

        StringAssert.Contains(await JobsExchange.OneShotAsync(server, request), "The job queue is full");
        gate.Release.SetResult();
        StringAssert.Contains(await first.WaitAsync(TimeSpan.FromSeconds(15)), "\"Status\":\"complete\"");
    }
}
