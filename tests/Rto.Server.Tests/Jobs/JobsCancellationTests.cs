using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Rto.Protocols.Jobs;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

/// <summary>
/// Issue 15 item 4: a job never runs longer than <c>Jobs:Timeout</c>, stops when its client goes
/// away (unless it asked to keep running), and never holds up the server's shutdown.
/// </summary>
[TestClass]
public sealed class JobsCancellationTests
{
    /// <summary>A query DuckDB needs minutes for on one thread: only an interrupt ends it early.</summary>
    internal const string EndlessSql = "SELECT sum(hash(i)) AS h FROM range(1000000000000) t(i)\n";

    /// <summary>Holds every job at its start until the job is cancelled or released, and says when it ended.</summary>
    private sealed class HeldObserver : JobRunObserver
    {
        public TaskCompletionSource Started { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public TaskCompletionSource<bool> Ended { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override async Task OnJobStartingAsync(JobRequest request, CancellationToken cancellationToken)
        {
            Started.TrySetResult();
            try
            {
                await Release.Task.WaitAsync(cancellationToken);
                Ended.TrySetResult(false);
            }
            catch (OperationCanceledException)
            {
                Ended.TrySetResult(true);
                throw;
            }
        }
    }

    private static string WriteEndlessJob(TestServer server)
    {
        string directory = Path.Combine(server.JobsRoot, "run1");
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), 16);
        File.WriteAllText(Path.Combine(directory, "endless.sql"), EndlessSql);
        return directory;
    }

    [TestMethod]
    public async Task AJobLongerThanTheTimeoutIsInterruptedAndTheSlotFreed()
    {
        // 4 s rather than 1: the quick job below must finish within the same limit on a busy 2-core CI machine.
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:Timeout=00:00:04", "--Jobs:MaxParallelJobs=1");
        string directory = WriteEndlessJob(server);

        var watch = Stopwatch.StartNew();
        string error = JobRequests.Error(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "endless.sql")));
        StringAssert.Contains(error, "Jobs:Timeout");
        System.Console.WriteLine($"Jobs:Timeout of 4 s: error reply after {watch.Elapsed.TotalSeconds:F2} s");
        Assert.IsLessThan(15, watch.Elapsed.TotalSeconds, $"DuckDB was interrupted ({watch.Elapsed})");

        // The only slot is free again: a quick job runs.
        File.WriteAllText(Path.Combine(directory, "quick.sql"), "SELECT 1 AS one");
        Assert.AreEqual("quick_ansver.parquet", JobRequests.ResultFile(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "quick.sql"))));
    }

    [TestMethod]
    public async Task AJobWhoseClientDisconnectedIsCancelled()
    {
        var held = new HeldObserver();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Services.AddSingleton<JobRunObserver>(held));
        string sample = Path.Combine(server.JobsRoot, "sample");
        RawConnection client = await RawConnection.OpenAsync(server.JobsEndPoint);
        await client.SendAsync(JobRequests.Dask(sample, "stats.task"));
        await held.Started.Task.WaitAsync(TimeSpan.FromSeconds(15));

        await client.DisposeAsync();
        Assert.IsTrue(await held.Ended.Task.WaitAsync(TimeSpan.FromSeconds(15)), "the job was cancelled, not released");
        Assert.IsFalse(File.Exists(Path.Combine(sample, "stats_ansver.parquet")));
    }

    [TestMethod]
    public async Task AJobThatAskedToKeepRunningOutlivesItsClient()
    {
        var held = new HeldObserver();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Services.AddSingleton<JobRunObserver>(held));
        string sample = Path.Combine(server.JobsRoot, "sample");
        RawConnection client = await RawConnection.OpenAsync(server.JobsEndPoint);
        await client.SendAsync(JobRequests.Dask(sample, "stats.task", extra: ""","KeepRunning":true"""));
        await held.Started.Task.WaitAsync(TimeSpan.FromSeconds(15));

        await client.DisposeAsync();
        Assert.IsFalse(held.Ended.Task.Wait(TimeSpan.FromMilliseconds(500)), "still running after the client left");
        held.Release.SetResult();
        Assert.IsFalse(await held.Ended.Task.WaitAsync(TimeSpan.FromSeconds(15)));

        // The result is written although nobody is there to read the reply.
        string result = Path.Combine(sample, "stats_ansver.parquet");
        for (var watch = Stopwatch.StartNew(); !File.Exists(result) && watch.Elapsed < TimeSpan.FromSeconds(15);)
        {
            await Task.Delay(50);
        }

        Assert.IsTrue(File.Exists(result));
    }

    [TestMethod]
    public async Task AQueuedJobWhoseClientLeftGivesUpItsPlace()
    {
        var held = new HeldObserver();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Services.AddSingleton<JobRunObserver>(held), "--Jobs:MaxParallelJobs=1", "--Jobs:QueueCapacity=1");
        string sample = Path.Combine(server.JobsRoot, "sample");
        Task<string> running = JobsExchange.OneShotAsync(server, JobRequests.Dask(sample, "stats.task"));
        await held.Started.Task.WaitAsync(TimeSpan.FromSeconds(15));

        // One waits in the queue, then leaves; its place is free for the next one.
        RawConnection queued = await RawConnection.OpenAsync(server.JobsEndPoint);
        await queued.SendAsync(JobRequests.Dask(sample, "fft.task"));
        await WaitForAsync(() => server.Services.GetRequiredService<JobRunner>().Admitted == 2);
        await queued.DisposeAsync();
        await WaitForAsync(() => server.Services.GetRequiredService<JobRunner>().Admitted == 1);

        Task<string> next = JobsExchange.OneShotAsync(server, JobRequests.Dask(sample, "fft.task"));
        await WaitForAsync(() => server.Services.GetRequiredService<JobRunner>().Admitted == 2);
        held.Release.SetResult();
        Assert.AreEqual("stats_ansver.parquet", JobRequests.ResultFile(await running.WaitAsync(TimeSpan.FromSeconds(15))));
        Assert.AreEqual("fft_ansver.parquet", JobRequests.ResultFile(await next.WaitAsync(TimeSpan.FromSeconds(15))));
    }

    [TestMethod]
    public async Task SigtermStopsTheServerPromptlyWhileJobsRun()
    {
        string data = TestServer.NewDataDirectory();
        string directory = Path.Combine(data, "jobs", "run1");
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), 16);
        File.WriteAllText(Path.Combine(directory, "endless.sql"), EndlessSql);
        await using ServerProcess server = await ServerProcess.StartAsync(data, $"--Jobs:DataRoots:0={Path.Combine(data, "jobs")}");

        var clients = new List<(RawConnection Connection, Task<string> Reply)>();
        for (int i = 0; i < 2; i++)
        {
            RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
            await connection.SendAsync(JobRequests.Dask(directory, "endless.sql"));
            clients.Add((connection, connection.ReadToEndAsync()));
        }

        await WaitForAsync(async () => (await InfoAsync(server)).Contains("Dask process: 2", StringComparison.Ordinal));
        var watch = Stopwatch.StartNew();
        Assert.AreEqual(0, await server.TerminateAsync());
        System.Console.WriteLine($"SIGTERM with two running jobs: stopped in {watch.Elapsed.TotalSeconds:F2} s");
        Assert.IsLessThan(10, watch.Elapsed.TotalSeconds, $"stopped in {watch.Elapsed} (Kestrel's shutdown timeout is 30 s)");
        foreach ((RawConnection connection, Task<string> reply) in clients)
        {
            StringAssert.Contains(JobRequests.Error(await reply), "shutting down");
            await connection.DisposeAsync();
        }
    }

    private static async Task<string> InfoAsync(ServerProcess server)
    {
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Header":"Info","Request":"Dask process"}""");
        return await connection.ReadToEndAsync();
    }

    internal static async Task WaitForAsync(Func<bool> condition) => await WaitForAsync(() => Task.FromResult(condition()));

    internal static async Task WaitForAsync(Func<Task<bool>> condition)
    {
        for (var watch = Stopwatch.StartNew(); !await condition(); await Task.Delay(20))
        {
            if (watch.Elapsed > TimeSpan.FromSeconds(20))
            {
                Assert.Fail("The condition did not hold within 20 s.");
            }
        }
    }
}
