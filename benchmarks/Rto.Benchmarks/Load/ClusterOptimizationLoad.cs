using System.Diagnostics;
using System.Globalization;
using Grpc.Net.Client;
using Grpc.RtoApi;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;
using Rto.Server.Tests.Cluster;

namespace Rto.Benchmarks.Load;

/// <summary>
/// <c>load cluster-optimization</c>: RTO calls (OptimizeIteration, report + next candidate) on one
/// single node (no NATS), one node on a 3-server JetStream cluster, and 3 nodes on it, in one run.
/// On 3 nodes twice: each session called on the node that owns it, and each call on the next node
/// in turn (two calls in three forwarded to the owner). Nodes run in this process.
/// </summary>
/// <remarks>
/// A call on the owner costs one JetStream publish (the evaluation stored with R3) on top of the
/// single node's work; a forwarded call adds a lease read and a NATS request/reply.
/// </remarks>
public static class ClusterOptimizationLoad
{
    private const string Usage = "usage: load cluster-optimization [--sessions 16] [--duration 10] [--warmup 2]";

    public static async Task<int> RunAsync(string[] args)
    {
        int sessions = 16, duration = 10, warmup = 2;
        for (int i = 0; i + 1 < args.Length; i += 2)
        {
            int value = int.Parse(args[i + 1], CultureInfo.InvariantCulture);
            switch (args[i])
            {
                case "--sessions": sessions = value; break;
                case "--duration": duration = value; break;
                case "--warmup": warmup = value; break;
                default:
                    await Console.Error.WriteLineAsync(Usage);
                    return 2;
            }
        }

        Console.WriteLine($"load cluster-optimization: {sessions} sessions, each one call in flight, warm-up {warmup} s, {duration} s each, {Environment.ProcessorCount} cores");
        int failures = await RunTopologyAsync("1 node, single (no NATS)", null, 1, forwarded: false, sessions, warmup, duration);
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        failures += await RunTopologyAsync("1 node on NATS (3 servers, R3)", nats.Urls, 1, forwarded: false, sessions, warmup, duration);
        failures += await RunTopologyAsync("3 nodes on NATS, calls on the owner", nats.Urls, 3, forwarded: false, sessions, warmup, duration);
        failures += await RunTopologyAsync("3 nodes on NATS, calls round-robin (2 of 3 forwarded)", nats.Urls, 3, forwarded: true, sessions, warmup, duration);
        return failures == 0 ? 0 : 1;
    }

    private static async Task<int> RunTopologyAsync(string name, string? nats, int nodeCount, bool forwarded, int sessions, int warmup, int duration)
    {
        var nodes = new List<WebApplication>();
        string directory = Path.Combine(Path.GetTempPath(), "rto-load-" + Guid.NewGuid().ToString("N"));
        var channels = new List<GrpcChannel>();
        try
        {
            for (int i = 0; i < nodeCount; i++)
            {
                string[] args =
                [
                    "--Metrics:Enabled=false", "--Jobs:Enabled=false", "--Meters:Enabled=false", "--Health:Enabled=false", "--Messenger:Enabled=false", "--Console:Enabled=false",
                    "--Optimization:Address=127.0.0.1", "--Optimization:Port=0", $"--Optimization:SessionsDirectory={Path.Combine(directory, $"n{i}")}", "--Logging:LogLevel:Default=Warning",
                    "--Logging:LogLevel:NATS=Error", // a node stopping mid-write logs a broken pipe: noise here
                    .. nats is null ? Array.Empty<string>() : [$"--Cluster:Nats={nats}", $"--Cluster:NodeName=rtoload{i}-{Guid.NewGuid().ToString("N")[..8]}"],
                ];
                WebApplication node = RtoServer.Build(args);
                await node.StartAsync();
                nodes.Add(node);
                channels.Add(GrpcChannel.ForAddress($"http://127.0.0.1:{node.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Optimization).Port}"));
            }

            RtoService.RtoServiceClient[] clients = [.. channels.Select(c => new RtoService.RtoServiceClient(c))];
            long calls = 0, failed = 0;
            var latencies = new List<long>[sessions];
            var clock = Stopwatch.StartNew();
            TimeSpan from = TimeSpan.FromSeconds(warmup), end = from + TimeSpan.FromSeconds(duration);
            await Task.WhenAll(Enumerable.Range(0, sessions).Select(async s =>
            {
                latencies[s] = [];
                int owner = s % clients.Length;
                var start = new StartRequest { MaxIterations = 1_000_000, OptimizationMethod = "GaussOpt" };
                start.Mvs.Add(new TagType { Id = "a", DataType = "Numeric", LowerBound = -5, UpperBound = 5 });
                start.Mvs.Add(new TagType { Id = "b", DataType = "Numeric", LowerBound = -5, UpperBound = 5 });
                string id = (await clients[owner].StartOptimizeSessionAsync(start)).OptimizationInstanceId;
                OptimizeIterationResponse reply = await clients[owner].OptimizeIterationAsync(new OptimizeIterationRequest { OptimizationInstanceId = id });
                for (int call = 1; clock.Elapsed < end; call++)
                {
                    double a = reply.MvValues[0].NumericValue, b = reply.MvValues[1].NumericValue;
                    var report = new OptimizeIterationRequest
                    {
                        OptimizationInstanceId = id,
                        ObjectiveFunctionValue = new TagVal { TagId = "objective", NumericValue = ((a - 1) * (a - 1)) + ((b + 2) * (b + 2)), IsGood = true },
                    };
                    long started = Stopwatch.GetTimestamp();
                    try
                    {
                        reply = await clients[forwarded ? (owner + call) % clients.Length : owner].OptimizeIterationAsync(report);
                    }
                    catch (Grpc.Core.RpcException)
                    {
                        Interlocked.Increment(ref failed);
                        continue;
                    }

                    if (clock.Elapsed >= from)
                    {
                        latencies[s].Add(Stopwatch.GetTimestamp() - started);
                        Interlocked.Increment(ref calls);
                    }
                }
            }));

            long[] sorted = [.. latencies.SelectMany(l => l).Order()];
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"{name}: {calls / (double)duration:0} calls/s, p50 {Ms(sorted, 0.5):0.00} ms, p99 {Ms(sorted, 0.99):0.00} ms, {failed} failed"));
            return failed == 0 ? 0 : 1;
        }
        finally
        {
            channels.ForEach(c => c.Dispose());
            foreach (WebApplication node in nodes)
            {
                await node.StopAsync();
                await node.DisposeAsync();
            }

            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }

    private static double Ms(long[] sorted, double p) =>
        sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))] * 1000.0 / Stopwatch.Frequency;
}
