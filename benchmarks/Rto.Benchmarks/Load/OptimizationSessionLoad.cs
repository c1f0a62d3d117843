using System.Diagnostics;
using System.Globalization;
using System.Net;
using Grpc.Net.Client;
using Grpc.RtoApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Client;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;

namespace Rto.Benchmarks.Load;

/// <summary>
/// Optimization service load (the RTO gRPC API). <c>iterate</c> (the default): N sessions each run an ask/tell loop as fast as
/// they can over a few shared HTTP/2 channels — every call reports the evaluation of the outstanding
/// candidate (the 4-MV parabola, computed here) and gets the next — and the OptimizeIteration rate
/// and latency are reported. <c>idle</c>: opens N sessions, asks each for its first candidate, and
/// reports the memory one idle session costs. Without <c>--target</c> the server runs in this
/// process on a free loopback port with a temporary sessions folder, removed afterwards.
/// </summary>
public static class OptimizationSessionLoad
{
    private const string Usage =
        "usage: load optimization [--mode iterate|idle|restore] [--sessions 64 (idle: 10000)] [--channels 2] [--duration 10] [--warmup 2] [--method NAME] [--budget N (iterate: max_iterations per session; a finished session is stopped and a new one started; default: one endless session per worker)] [--target host:port]";

    /// <summary>Runs the load; 0 on success, 1 when calls failed, 2 on bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Settings settings;
        try
        {
            settings = Settings.Parse(args is ["optimization", ..] ? args[1..] : args);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + Usage);
            return 2;
        }

        string sessions = Path.Combine(Path.GetTempPath(), "rto-load-" + Guid.NewGuid().ToString("N"));
        WebApplication? server = null;
        string address = settings.Target ?? "";
        if (settings.Mode == "restore")
        {
            return await RunRestoreAsync(settings, sessions);
        }

        if (settings.Target is null)
        {
            server = InProcessServer(sessions);
            await server.StartAsync();
            IPEndPoint endPoint = server.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Optimization);
            address = $"127.0.0.1:{endPoint.Port}";
        }

        GrpcChannel[] channels = [.. Enumerable.Range(0, settings.Channels).Select(_ => GrpcChannel.ForAddress(GrpcAddress.Parse(address)))];
        try
        {
            return settings.Mode == "idle"
                ? await RunIdleAsync(channels, settings, inProcess: server is not null)
                : await RunIterateAsync(channels, address, settings);
        }
        finally
        {
            foreach (GrpcChannel channel in channels)
            {
                channel.Dispose();
            }

            if (server is not null)
            {
                await server.StopAsync();
                await server.DisposeAsync();
                if (Directory.Exists(sessions))
                {
                    Directory.Delete(sessions, recursive: true);
                }
            }
        }
    }

    private static async Task<int> RunIterateAsync(GrpcChannel[] channels, string address, Settings settings)
    {
        string budget = settings.Budget is int b ? $"{b} evaluations per session, then a new session" : "endless sessions";
        Console.WriteLine($"optimization iterate: server {address}, {settings.Sessions} concurrent sessions ({budget}) on {channels.Length} HTTP/2 channels, method '{settings.Method}', warm-up {settings.Warmup} s, duration {settings.Duration} s, {Environment.ProcessorCount} cores");
        var workers = new Worker[settings.Sessions];
        for (int i = 0; i < workers.Length; i++)
        {
            var rto = new RtoService.RtoServiceClient(channels[i % channels.Length]);
            workers[i] = new Worker(rto, settings.Method, settings.Budget ?? 100_000_000);
        }

        using var stop = new CancellationTokenSource();
        Task[] running = [.. workers.Select(w => w.RunAsync(stop.Token))];
        await Task.Delay(TimeSpan.FromSeconds(settings.Warmup));
        MemorySnapshot before = MemorySnapshot.Take(inProcess: true, serverPid: null);
        long[] startCounts = [.. workers.Select(w => w.Calls)];
        foreach (Worker w in workers)
        {
            w.Measuring = true;
        }

        long from = Stopwatch.GetTimestamp();
        await Task.Delay(TimeSpan.FromSeconds(settings.Duration));
        long[] endCounts = [.. workers.Select(w => w.Calls)];
        TimeSpan elapsed = Stopwatch.GetElapsedTime(from);
        MemorySnapshot after = MemorySnapshot.Take(inProcess: true, serverPid: null);
        await stop.CancelAsync();
        await Task.WhenAll(running);

        long calls = endCounts.Sum() - startCounts.Sum();
        var latency = new LatencyHistogram();
        foreach (Worker w in workers)
        {
            latency.Add(w.Latency);
        }

        int failures = workers.Sum(w => w.Failures);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"OptimizeIteration (report + next candidate): {calls / elapsed.TotalSeconds:N0} calls/s ({calls:N0} in {elapsed.TotalSeconds:F1} s), latency p50 {latency.PercentileMicroseconds(50):N0} µs, p99 {latency.PercentileMicroseconds(99):N0} µs, max {LatencyHistogram.ToMicroseconds(latency.MaxTicks):N0} µs, {failures} failed calls"));
        Console.WriteLine(MemorySnapshot.Describe(before, after));
        return failures == 0 ? 0 : 1;
    }

    private static async Task<int> RunIdleAsync(GrpcChannel[] channels, Settings settings, bool inProcess)
    {
        Console.WriteLine($"optimization idle: opening {settings.Sessions} sessions (4 MVs, 1 CV, first candidate asked) on {channels.Length} channels");
        var rto = new RtoService.RtoServiceClient(channels[0]);
        await StartAsync(rto, settings.Method, 10); // connection and JIT warm-up, not counted
        long heapBefore = FullHeap();
        long workingBefore = Environment.WorkingSet;
        var clock = Stopwatch.StartNew();
        using var gate = new SemaphoreSlim(64);
        await Task.WhenAll(Enumerable.Range(0, settings.Sessions).Select(async i =>
        {
            await gate.WaitAsync();
            try
            {
                var client = new RtoService.RtoServiceClient(channels[i % channels.Length]);
                string id = await StartAsync(client, settings.Method, 1000);
                await client.OptimizeIterationAsync(new OptimizeIterationRequest { OptimizationInstanceId = id });
            }
            finally
            {
                gate.Release();
            }
        }));
        TimeSpan opening = clock.Elapsed;
        long heapAfter = FullHeap();
        long workingAfter = Environment.WorkingSet;
        int n = settings.Sessions;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"opened {n:N0} sessions in {opening.TotalSeconds:F1} s ({n / opening.TotalSeconds:N0} starts/s incl. the first iteration)"));
        Console.WriteLine(inProcess
            ? string.Create(CultureInfo.InvariantCulture,
                $"memory per idle session: GC heap {(heapAfter - heapBefore) / (double)n:N0} B ({heapBefore / 1048576.0:F1} -> {heapAfter / 1048576.0:F1} MB), working set {(workingAfter - workingBefore) / (double)n:N0} B ({workingBefore / 1048576.0:F1} -> {workingAfter / 1048576.0:F1} MB)")
            : "memory: external server; measure its process");
        return 0;
    }

    private static WebApplication InProcessServer(string sessions) => RtoServer.Build(
    [
        "--Metrics:Enabled=false", "--Jobs:Enabled=false", "--Meters:Enabled=false", "--Messenger:Enabled=false", "--Health:Enabled=false", "--Console:Enabled=false",
        "--Optimization:Address=127.0.0.1", "--Optimization:Port=0", $"--Optimization:SessionsDirectory={sessions}", $"--Optimization:ModelsDirectory={Path.Combine(sessions, "models")}", "--Optimization:MaxIterations=100000000", "--Logging:LogLevel:Default=Warning",
    ]);

    /// <summary>Fills sessions with evaluations, restarts the server on the same folder and times the restore (the replay of every evaluation).</summary>
    private static async Task<int> RunRestoreAsync(Settings settings, string sessions)
    {
        int budget = settings.Budget ?? 100;
        int evaluations = Math.Max(1, budget - 1);
        Console.WriteLine($"optimization restore: {settings.Sessions} sessions of {evaluations} evaluations each (method '{settings.Method}'), then a restart on the same folder, {Environment.ProcessorCount} cores");
        try
        {
            await using (WebApplication first = InProcessServer(sessions))
            {
                await first.StartAsync();
                using GrpcChannel channel = GrpcChannel.ForAddress(GrpcAddress.Parse($"127.0.0.1:{first.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Optimization).Port}"));
                var rto = new RtoService.RtoServiceClient(channel);
                using var gate = new SemaphoreSlim(64);
                await Task.WhenAll(Enumerable.Range(0, settings.Sessions).Select(async _ =>
                {
                    await gate.WaitAsync();
                    try
                    {
                        string id = await StartAsync(rto, settings.Method, budget);
                        OptimizeIterationResponse response = await rto.OptimizeIterationAsync(new OptimizeIterationRequest { OptimizationInstanceId = id });
                        for (int e = 0; e < evaluations; e++)
                        {
                            var request = new OptimizeIterationRequest { OptimizationInstanceId = id, ObjectiveFunctionValue = new TagVal { TagId = "objective", NumericValue = Worker.Parabola(response), IsGood = true } };
                            request.CvValues.Add(new TagVal { TagId = "y", NumericValue = Worker.Parabola(response), IsGood = true });
                            response = await rto.OptimizeIterationAsync(request);
                        }
                    }
                    finally
                    {
                        gate.Release();
                    }
                }));
                await first.StopAsync();
            }

            var clock = Stopwatch.StartNew();
            await using WebApplication second = InProcessServer(sessions);
            await second.StartAsync();
            TimeSpan restore = clock.Elapsed;
            int restored = second.Services.GetRequiredService<Rto.Server.Optimization.SessionStore>().Count;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"restart with {restored:N0} sessions ({(long)restored * evaluations:N0} evaluations replayed): {restore.TotalSeconds:F2} s from Build to listening, {restore.TotalMilliseconds * 1000 / Math.Max(1, (long)restored * evaluations):F1} µs per replayed evaluation"));
            await second.StopAsync();
            return restored == settings.Sessions ? 0 : 1;
        }
        finally
        {
            if (Directory.Exists(sessions))
            {
                Directory.Delete(sessions, recursive: true);
            }
        }
    }

    private static long FullHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static async Task<string> StartAsync(RtoService.RtoServiceClient rto, string method, int iterations)
    {
        var request = new StartRequest { MaxIterations = iterations, Maximize = true, OptimizationMethod = method };
        foreach (string x in (string[])["x1", "x2", "x3", "x4"])
        {
            request.Mvs.Add(new TagType { Id = x, Name = x, DataType = "Numeric", LowerBound = -10, UpperBound = 10 });
        }

        request.Cvs.Add(new TagType { Id = "y", Name = "y", DataType = "Numeric", LowerBound = -1000, UpperBound = double.MaxValue });
        StartResponse response = await rto.StartOptimizeSessionAsync(request);
        return response.IsGood ? response.OptimizationInstanceId : throw new InvalidOperationException(response.Message);
    }

    /// <summary>One session's ask/tell loop; counters are read by the coordinator between phases.</summary>
    private sealed class Worker(RtoService.RtoServiceClient rto, string method, int budget)
    {
        private long _calls;

        public long Calls => Interlocked.Read(ref _calls);

        public volatile bool Measuring;

        public LatencyHistogram Latency { get; } = new();

        public int Failures { get; private set; }

        public async Task RunAsync(CancellationToken stop)
        {
            string session = await StartAsync(rto, method, budget);
            OptimizeIterationResponse response = await rto.OptimizeIterationAsync(new OptimizeIterationRequest { OptimizationInstanceId = session });
            while (!stop.IsCancellationRequested)
            {
                if (response.Flag == IterationFlag.Completed)
                {
                    // Finished: the next plant session, as a real client would (Stop and Start are not counted).
                    await rto.StopAsync(new StopRequest { SessionId = session });
                    session = await StartAsync(rto, method, budget);
                    response = await rto.OptimizeIterationAsync(new OptimizeIterationRequest { OptimizationInstanceId = session });
                    continue;
                }

                double y = Parabola(response);
                var request = new OptimizeIterationRequest
                {
                    OptimizationInstanceId = session,
                    ObjectiveFunctionValue = new TagVal { TagId = "objective", NumericValue = y, IsGood = true },
                };
                request.CvValues.Add(new TagVal { TagId = "y", NumericValue = y, IsGood = true });
                long start = Stopwatch.GetTimestamp();
                response = await rto.OptimizeIterationAsync(request);
                long ticks = Stopwatch.GetTimestamp() - start;
                if (response.Flag is not (IterationFlag.Candidate or IterationFlag.Completed))
                {
                    Failures++;
                }

                if (Measuring)
                {
                    Latency.Record(ticks);
                }

                Interlocked.Increment(ref _calls);
            }
        }

        public static double Parabola(OptimizeIterationResponse response)
        {
            double x1 = response.MvValues[0].NumericValue, x2 = response.MvValues[1].NumericValue, x3 = response.MvValues[2].NumericValue, x4 = response.MvValues[3].NumericValue;
            return 10 - ((x1 - 2) * (x1 - 2)) - ((x2 + 3) * (x2 + 3)) - ((x3 - 4) * (x3 - 4)) - ((x4 - 1) * (x4 - 1));
        }
    }

    private sealed record Settings(string Mode, int Sessions, int Channels, int Duration, int Warmup, string Method, string? Target, int? Budget)
    {
        public static Settings Parse(string[] args)
        {
            string mode = "iterate", method = "";
            int? sessions = null;
            int channels = 2, duration = 10, warmup = 2;
            string? target = null;
            int? budget = null;
            for (int i = 0; i < args.Length; i++)
            {
                string value = i + 1 < args.Length ? args[i + 1] : throw new FormatException($"{args[i]} needs a value");
                switch (args[i])
                {
                    case "--mode": mode = value is "iterate" or "idle" or "restore" ? value : throw new FormatException($"unknown mode '{value}'"); break;
                    case "--sessions": sessions = Positive(value, args[i]); break;
                    case "--channels": channels = Positive(value, args[i]); break;
                    case "--duration": duration = Positive(value, args[i]); break;
                    case "--warmup": warmup = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--method": method = value; break;
                    case "--target": target = value; break;
                    case "--budget": budget = Positive(value, args[i]); break;
                    default: throw new FormatException($"unknown option {args[i]}");
                }

                i++;
            }

            return new Settings(mode, sessions ?? (mode == "idle" ? 10_000 : 64), channels, duration, warmup, method, target, budget);
        }

        private static int Positive(string value, string option) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new FormatException($"{option} must be a positive number, not '{value}'");
    }
}
