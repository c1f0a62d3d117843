using System.Diagnostics;
using System.Text;
using DuckDB.NET.Data;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

/// <summary>
/// Issue 15 items 5 and 6, issue 16: a job's memory is capped (DuckDB's <c>memory_limit</c>, a bound on the
/// FFT input) and given back afterwards; jobs run on their own threads with few DuckDB threads, so
/// other endpoints keep their latency.
/// </summary>
[TestClass]
public sealed class JobsResourceTests
{
    private static object[] QueryRow(string sql)
    {
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        Assert.IsTrue(reader.Read());
        object[] row = new object[reader.FieldCount];
        reader.GetValues(row);
        return row;
    }

    private static string NewRun(TestServer server, int rows = 64)
    {
        string directory = Path.Combine(server.JobsRoot, "run" + Guid.NewGuid().ToString("N")[..6]);
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), rows);
        return directory;
    }

    [TestMethod]
    public async Task EachSqlJobRunsWithTheConfiguredMemoryLimitAndThreads()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:MaxJobMemory=67108864", "--Jobs:ThreadsPerJob=1");
        string directory = NewRun(server);
        File.WriteAllText(Path.Combine(directory, "settings.sql"), "SELECT current_setting('memory_limit') AS m, current_setting('threads') AS t, current_setting('temp_directory') AS d");
        JobRequests.ResultFile(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "settings.sql")));
        object[] row = QueryRow($"SELECT m, t, d FROM '{Path.Combine(directory, "settings_ansver.parquet")}'");
        Assert.AreEqual("64.0 MiB", row[0]);
        Assert.AreEqual(1L, Convert.ToInt64(row[1]));
        Assert.AreEqual("", row[2], "nothing spills to disk");
    }

    [TestMethod]
    public async Task ASqlJobNeedingMoreThanTheLimitFailsClearly()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:MaxJobMemory=33554432");
        string directory = NewRun(server);
        File.WriteAllText(Path.Combine(directory, "big.sql"), "SELECT i, hash(i) AS h FROM range(20000000) t(i) ORDER BY h");
        string error = JobRequests.Error(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "big.sql")));
        StringAssert.Contains(error, "Out of Memory");
        StringAssert.Contains(error, "Jobs:MaxJobMemory");
    }

    [TestMethod]
    public async Task AnFftLargerThanTheMemoryLimitAllowsIsRefused()
    {
        // 400,000 samples need about 25 MB (32 bytes per sample with FFTW, 192 without, and the writer's buffers).
        Assert.IsGreaterThan(16L << 20, SpectrumTransform.RequiredBytes(400_000));
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:MaxJobMemory=16777216");
        string directory = NewRun(server, rows: 400_000);
        File.WriteAllText(Path.Combine(directory, "fft.task"), "fft values");
        string error = JobRequests.Error(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "fft.task")));
        StringAssert.Contains(error, "400000 samples");
        StringAssert.Contains(error, "Jobs:MaxJobMemory");
    }

    [TestMethod]
    public async Task AnFftWithinTheLimitRuns()
    {
        // Before the streamed write an FFT was allowed 256 bytes per sample: 128 MiB for these 500,000.
        int rows = 500_000;
        long limit = SpectrumTransform.RequiredBytes(rows) + (1 << 20);
        if (SpectrumTransform.Engine == "FFTW")
        {
            Assert.IsLessThan(32L << 20, limit, "a quarter of the old bound");
        }

        await using TestServer server = await TestServer.StartAsync(null, $"--Jobs:MaxJobMemory={Math.Max(limit, 16L << 20)}");
        string directory = NewRun(server, rows);
        File.WriteAllText(Path.Combine(directory, "fft.task"), "fft values");
        Assert.AreEqual("fft_ansver.parquet", JobRequests.ResultFile(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "fft.task"))));
        object[] row = QueryRow($"SELECT count(*), max(frequency_index) FROM '{Path.Combine(directory, "fft_ansver.parquet")}'");
        Assert.AreEqual((long)rows, Convert.ToInt64(row[0]));
        Assert.AreEqual(rows - 1L, Convert.ToInt64(row[1]));
    }

    [TestMethod]
    public async Task MemoryIsGivenBackAfterALargeFft()
    {
        const int Samples = 2_500_000;
        string data = TestServer.NewDataDirectory();
        string directory = Path.Combine(data, "jobs", "big");
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), Samples);
        File.WriteAllText(Path.Combine(directory, "fft.task"), "fft values");
        await using ServerProcess server = await ServerProcess.StartAsync(data, $"--Jobs:DataRoots:0={Path.Combine(data, "jobs")}");

        // Warm up the FFT path once on a small input, so that code and libraries loaded count as the baseline.
        string small = Path.Combine(data, "jobs", "small");
        Directory.CreateDirectory(small);
        JobSamples.WriteTimeSeries(Path.Combine(small, "time_series.parquet"), 1024);
        File.WriteAllText(Path.Combine(small, "fft.task"), "fft values");
        await RunAsync(server, small);
        long before = Status(server.Id, "VmRSS");

        await RunAsync(server, directory);
        long peak = Status(server.Id, "VmHWM");
        long after = Status(server.Id, "VmRSS");

        // The samples alone are 20 MB; the peak stays within what Jobs:MaxJobMemory is told an FFT needs
        // (before the streamed write it rose by about 256 bytes per sample, 600 MB here).
        string figures = $"before {before >> 20} MiB, peak {peak >> 20} MiB, after {after >> 20} MiB; allowed {SpectrumTransform.RequiredBytes(Samples) >> 20} MiB";
        System.Console.WriteLine($"RSS {figures}");
        Assert.IsGreaterThan(before + (Samples * 8L), peak, $"the job used memory: {figures}");
        Assert.IsLessThan(before + SpectrumTransform.RequiredBytes(Samples), peak, $"within the bound: {figures}");

        // What remains is at most FFTW's plan, kept for the next job of this length (about 9 bytes per
        // sample, dropped after FftwPlans.IdleLifetime), and the runtime's own slack.
        Assert.IsLessThan(before + (Samples * 12L) + (16L << 20), after, $"given back: {figures}");
    }

    private static async Task RunAsync(ServerProcess server, string directory)
    {
        using var client = new System.Net.Sockets.TcpClient();
        await client.ConnectAsync(server.JobsEndPoint);
        await using System.Net.Sockets.NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(JobRequests.Dask(directory, "fft.task")));
        using var reader = new StreamReader(stream, Encoding.UTF8);
        JobRequests.ResultFile(await reader.ReadToEndAsync().WaitAsync(TimeSpan.FromSeconds(120)));
    }

    /// <summary>A size field of /proc/PID/status in bytes (VmRSS: resident now; VmHWM: the peak).</summary>
    private static long Status(int pid, string field)
    {
        string line = File.ReadLines($"/proc/{pid}/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
        return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], System.Globalization.CultureInfo.InvariantCulture) * 1024;
    }

    [TestMethod]
    [DoNotParallelize]
    public async Task AMetricsClientKeepsItsLatencyWhileTwoSqlJobsRun()
    {
        // The server in its own process: a thread pool as small as in production, not the test host's.
        string data = TestServer.NewDataDirectory();
        string directory = Path.Combine(data, "jobs", "run1");
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), 16);
        File.WriteAllText(Path.Combine(directory, "endless.sql"), JobsCancellationTests.EndlessSql);
        await using ServerProcess server = await ServerProcess.StartAsync(data, $"--Jobs:DataRoots:0={Path.Combine(data, "jobs")}", "--Jobs:Timeout=00:02:00", "--Metrics:Fsync=Never");
        var clients = new List<RawConnection>();
        for (int i = 0; i < 4; i++)
        {
            clients.Add(await RawConnection.OpenAsync(server.MetricsEndPoint));
        }

        await MeasureP99Async(clients, 100);
        double quiet = await MeasureP99Async(clients, 400);

        var jobs = new List<RawConnection>();
        for (int i = 0; i < 2; i++)
        {
            RawConnection job = await RawConnection.OpenAsync(server.JobsEndPoint);
            await job.SendAsync(JobRequests.Dask(directory, "endless.sql"));
            jobs.Add(job);
        }

        await JobsCancellationTests.WaitForAsync(async () => (await InfoAsync(server)).Contains("Dask process: 2", StringComparison.Ordinal));
        double busy = await MeasureP99Async(clients, 400);
        StringAssert.Contains(await InfoAsync(server), "Dask process: 2", "both jobs ran throughout");
        foreach (RawConnection connection in jobs.Concat(clients))
        {
            await connection.DisposeAsync();
        }

        // Generous: the machine running the tests is shared; before the fix p99 was seconds.
        System.Console.WriteLine($"metrics p99 (4 clients): {quiet:F1} ms quiet, {busy:F1} ms while two SQL jobs ran");
        Assert.IsLessThan((4 * quiet) + 200, busy, $"metrics p99: {quiet:F1} ms quiet, {busy:F1} ms while two jobs ran");
    }

    private static async Task<string> InfoAsync(ServerProcess server)
    {
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("""{"Header":"Info","Request":"Dask process"}""");
        return await connection.ReadToEndAsync();
    }

    /// <summary>Every client sends <paramref name="requests"/> puts one after the other, all clients at once; the p99 of all round trips.</summary>
    private static async Task<double> MeasureP99Async(List<RawConnection> clients, int requests)
    {
        double[][] latencies = await Task.WhenAll(clients.Select((client, c) => MeasureAsync(client, c, requests)));
        double[] all = [.. latencies.SelectMany(l => l)];
        Array.Sort(all);
        return all[(int)Math.Ceiling(all.Length * 0.99) - 1];
    }

    private static async Task<double[]> MeasureAsync(RawConnection metrics, int client, int requests)
    {
        double[] latencies = new double[requests];
        for (int i = 0; i < requests; i++)
        {
            long started = Stopwatch.GetTimestamp();
            await metrics.RoundTripAsync($"put p99.probe{client} {i} {1_700_000_000 + i}\n", "ok\n\n");
            latencies[i] = Stopwatch.GetElapsedTime(started).TotalMilliseconds;
        }

        return latencies;
    }
}
