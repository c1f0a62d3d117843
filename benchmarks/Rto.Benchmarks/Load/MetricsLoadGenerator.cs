using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;
using Rto.Server.Metrics;
using Rto.Server.Storage;

namespace Rto.Benchmarks.Load;

/// <summary>
/// Drives the metrics endpoint over real TCP connections and reports throughput, latency and
/// memory. Without <c>--port</c> it starts the real server in this process on a free port with
/// an empty data directory, so one command measures the whole stack; note the client then
/// shares the CPUs (and the GC) with the server.
/// </summary>
internal static class MetricsLoadGenerator
{
    private const long FirstTimestamp = 1_700_000_000;
    private const string InlineCompletions = "DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS";

    public static async Task<int> RunAsync(LoadOptions options)
    {
        if (options.Mode == LoadMode.Size)
        {
            return await MetricsSizeLoad.RunAsync(options);
        }

        if (options.Mode == LoadMode.Restart)
        {
            return MetricsRestartLoad.Run(options);
        }

        // A hard bound on the whole run, whatever the server does.
        using var deadline = new CancellationTokenSource(TimeSpan.FromSeconds(options.WarmupSeconds + options.DurationSeconds + 30));
        string? dataDirectory = null;
        WebApplication? server = null;
        try
        {
            IPEndPoint endPoint;
            if (options.Port is int port)
            {
                // The generator's continuations are short and never block, so running them on the
                // socket event threads saves a thread-pool hop per read, leaving more CPU to the
                // server when both share a small machine. Only against an external server: in
                // process it would change how the server under test runs. Must precede any socket.
                Environment.SetEnvironmentVariable(InlineCompletions, Environment.GetEnvironmentVariable(InlineCompletions) ?? "1");

                // Prefer IPv4: "localhost" often resolves to ::1 first, and the server defaults to 127.0.0.1.
                IPAddress[] addresses = await Dns.GetHostAddressesAsync(options.Host, deadline.Token);
                IPAddress address = Array.Find(addresses, a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork) ?? addresses[0];
                endPoint = new IPEndPoint(address, port);
            }
            else
            {
                dataDirectory = Path.Combine(Path.GetTempPath(), "rto-load-" + Guid.NewGuid().ToString("N"));
                (server, endPoint) = await StartServerAsync(dataDirectory, options.Fsync, options.ServerSettings, deadline.Token);
            }

            return await MeasureAsync(options, endPoint, server, deadline.Token);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"Load run failed: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (server is not null)
            {
                await server.StopAsync(CancellationToken.None);
                await server.DisposeAsync();
            }

            if (dataDirectory is not null && Directory.Exists(dataDirectory))
            {
                Directory.Delete(dataDirectory, recursive: true);
            }
        }
    }

    /// <summary>Starts the real server in this process with only the metrics endpoint, on a free port.</summary>
    internal static async Task<(WebApplication Server, IPEndPoint EndPoint)> StartServerAsync(string dataDirectory, FsyncPolicy fsync, IEnumerable<string> settings, CancellationToken cancellation)
    {
        WebApplication server = RtoServer.Build(
        [
            "--Metrics:Address=127.0.0.1",
            "--Metrics:Port=0",
            $"--Metrics:DataDirectory={dataDirectory}",
            $"--Metrics:Fsync={fsync}",
            "--Logging:LogLevel:Default=Warning",
            "--Jobs:Enabled=false",
            "--Messenger:Enabled=false", "--Meters:Enabled=false", "--Health:Enabled=false", "--Console:Enabled=false", "--Optimization:Enabled=false",
            .. settings,
        ]);
        await server.StartAsync(cancellation);
        return (server, server.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Metrics));
    }

    private static async Task<int> MeasureAsync(LoadOptions options, IPEndPoint endPoint, WebApplication? server, CancellationToken deadline)
    {
        string target = server is null
            ? $"server at {endPoint}, client {InlineCompletions}={Environment.GetEnvironmentVariable(InlineCompletions)}"
            : $"in-process server on {endPoint}, fsync {options.Fsync}";
        Console.WriteLine($"metrics load: mode {options.Mode}, {options.Connections} connections x {options.Pipeline} in flight, {options.Keys} keys per connection, warmup {options.WarmupSeconds} s, measure {options.DurationSeconds} s, {target}");

        string run = Guid.NewGuid().ToString("N")[..4];
        Console.WriteLine($"keys: {RequestBlock.Key(run, 0, 0)} .. {RequestBlock.Key(run, options.Connections - 1, options.Keys - 1)}");
        var connections = new LoadConnection[options.Connections];
        var requests = new RequestBlock[options.Connections];
        try
        {
            for (int c = 0; c < connections.Length; c++)
            {
                connections[c] = await LoadConnection.ConnectAsync(endPoint, options.Pipeline, deadline);
                requests[c] = options.Mode == LoadMode.Put
                    ? RequestBlock.Puts(run, c, options.Keys, FirstTimestamp)
                    : await PreloadAsync(connections[c], run, c, options, deadline);
            }

            MemorySnapshot before = MemorySnapshot.Take(server is not null, options.ServerPid);
            long measureStart = Stopwatch.GetTimestamp() + (long)(options.WarmupSeconds * Stopwatch.Frequency);
            long measureEnd = measureStart + (long)(options.DurationSeconds * Stopwatch.Frequency);
            await Task.WhenAll(connections.Select((connection, c) => Task.Run(() => connection.RunAsync(requests[c], measureStart, measureEnd, deadline), deadline)));
            MemorySnapshot after = MemorySnapshot.Take(server is not null, options.ServerPid);

            var latency = new LatencyHistogram();
            long acknowledged = 0;
            long errors = 0;
            long sent = 0;
            foreach (LoadConnection connection in connections)
            {
                latency.Add(connection.Latency);
                acknowledged += connection.Acknowledged;
                errors += connection.Errors;
                sent += connection.Sent;
            }

            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"acknowledged: {acknowledged:N0} requests in {options.DurationSeconds} s = {acknowledged / options.DurationSeconds:N0} req/s, {errors} error replies"));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"latency (us): p50 {latency.PercentileMicroseconds(50):F0}  p90 {latency.PercentileMicroseconds(90):F0}  p99 {latency.PercentileMicroseconds(99):F0}  max {LatencyHistogram.ToMicroseconds(latency.MaxTicks):F0}"));
            Console.WriteLine(MemorySnapshot.Describe(before, after));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"summary: rps={acknowledged / options.DurationSeconds:F0} p50_ms={latency.PercentileMicroseconds(50) / 1000:F3} p99_ms={latency.PercentileMicroseconds(99) / 1000:F3} max_ms={LatencyHistogram.ToMicroseconds(latency.MaxTicks) / 1000:F3} errors={errors}"));
            bool consistent = true;
            if (server is not null)
            {
                // Every acknowledged put had a new (key, timestamp), so each must have become a point.
                MetricStore store = server.Services.GetRequiredService<MetricStore>();
                long points = store.PointCount;
                long expected = options.Mode == LoadMode.Put ? sent : (long)options.Connections * options.Keys * options.PointsPerKey;
                consistent = points == expected;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"store: {store.KeyCount:N0} keys, {points:N0} points (expected {expected:N0}{(consistent ? "" : ": MISMATCH")})"));
            }

            return errors == 0 && acknowledged > 0 && consistent ? 0 : 1;
        }
        finally
        {
            foreach (LoadConnection? connection in connections)
            {
                if (connection is not null)
                {
                    await connection.DisposeAsync();
                }
            }
        }
    }

    /// <summary>Gives every key of the connection a few points to read back, before anything is timed.</summary>
    private static async Task<RequestBlock> PreloadAsync(LoadConnection connection, string run, int c, LoadOptions options, CancellationToken deadline)
    {
        for (int p = 0; p < options.PointsPerKey; p++)
        {
            await connection.SendAllAsync(RequestBlock.Puts(run, c, options.Keys, FirstTimestamp + p), options.Keys, deadline);
        }

        return RequestBlock.Gets(run, c, options.Keys);
    }
}
