using System.Diagnostics;
using System.Globalization;
using System.Net;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Client.Metrics;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;
using Rto.Server.Tests.Cluster;

namespace Rto.Benchmarks.Load;

/// <summary>
/// <c>load cluster metrics</c>: metrics puts on one single node (no NATS, its own log), one node on
/// a 3-server JetStream cluster and 3 nodes on it, in one run. Per node: connections, each putting
/// batches of points (one pipelined batch in flight); reports acknowledged puts/s and the p50/p99
/// of batch→all acknowledgements, then checks that every node's <c>get *</c> holds every
/// acknowledged point (nodes with <c>Metrics:ClusterReads=Latest</c>, so the check needs no wait).
/// </summary>
public static class ClusterMetricsLoad
{
    private const string Usage = "usage: load cluster metrics [--duration 5] [--warmup 1] [--connections 4] [--batch 100] [--only single|one|three]   (per node: connections, points per batch)";

    public static async Task<int> RunAsync(string[] args)
    {
        int duration = 5, warmup = 1, connections = 4, batch = 100;
        string? only = null;
        try
        {
            for (int i = 0; i < args.Length; i += 2)
            {
                string value = i + 1 < args.Length ? args[i + 1] : throw new FormatException($"{args[i]} needs a value.");
                switch (args[i])
                {
                    case "--duration": duration = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--warmup": warmup = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--connections": connections = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--batch": batch = int.Parse(value, CultureInfo.InvariantCulture); break;
                    case "--only" when value is "single" or "one" or "three": only = value; break;
                    default: throw new FormatException($"Unknown option {args[i]} {value}.");
                }
            }
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + Usage);
            return 2;
        }

        Console.WriteLine($"load cluster metrics: {connections} connection(s) per node, batches of {batch} puts, warm-up {warmup} s, {duration} s each, {Environment.ProcessorCount} cores");
        int failures = 0;
        if (only is null or "single")
        {
            failures += await RunTopologyAsync("1 node, single (no NATS)", null, 1, connections, batch, warmup, duration);
        }

        if (only is not "single")
        {
            await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
            if (only is null or "one")
            {
                failures += await RunTopologyAsync("1 node on NATS (3 servers, R3)", nats.Urls, 1, connections, batch, warmup, duration);
            }

            if (only is null or "three")
            {
                failures += await RunTopologyAsync("3 nodes on NATS (3 servers, R3)", nats.Urls, 3, connections, batch, warmup, duration);
            }
        }

        return failures == 0 ? 0 : 1;
    }

    private static async Task<int> RunTopologyAsync(string name, string? nats, int nodeCount, int connections, int batch, int warmup, int duration)
    {
        var nodes = new List<WebApplication>();
        string directory = Path.Combine(Path.GetTempPath(), "rto-load-cluster-metrics", Guid.NewGuid().ToString("N")[..8]);
        try
        {
            for (int i = 0; i < nodeCount; i++)
            {
                string[] args =
                [
                    "--Messenger:Enabled=false", "--Jobs:Enabled=false", "--Meters:Enabled=false", "--Health:Enabled=false", "--Optimization:Enabled=false", "--Console:Enabled=false",
                    "--Metrics:Address=127.0.0.1", "--Metrics:Port=0", $"--Metrics:DataDirectory={Path.Combine(directory, $"node{i}")}", "--Metrics:ClusterReads=Latest",
                    "--Logging:LogLevel:Default=Warning",
                    .. nats is null ? Array.Empty<string>() : [$"--Cluster:Nats={nats}", $"--Cluster:NodeName=metrics{i}-{Guid.NewGuid():N}"[..(23 + 1)]],
                ];
                WebApplication node = RtoServer.Build(args);
                await node.StartAsync();
                nodes.Add(node);
            }

            IPEndPoint[] endPoints = [.. nodes.Select(n => new IPEndPoint(IPAddress.Loopback, n.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Metrics).Port))];
            return await MeasureAsync(name, $"load.{nodeCount}{(nats is null ? "s" : "n")}.", endPoints, connections, batch, warmup, duration);
        }
        finally
        {
            foreach (WebApplication node in nodes)
            {
                await node.StopAsync();
                await node.DisposeAsync();
            }

            try
            {
                Directory.Delete(directory, recursive: true);
            }
            catch (IOException)
            {
            }
        }
    }

    private static async Task<int> MeasureAsync(string name, string prefix, IPEndPoint[] endPoints, int connections, int batch, int warmup, int duration)
    {
        var options = new MetricsClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) };
        var clock = Stopwatch.StartNew();
        TimeSpan from = TimeSpan.FromSeconds(warmup), end = from + TimeSpan.FromSeconds(duration);
        long acknowledged = 0, measured = 0;
        var latencies = new List<long>[endPoints.Length * connections];
        int failures = 0;

        async Task PutLoopAsync(IPEndPoint endPoint, int slot)
        {
            latencies[slot] = [];
            await using MetricsClient client = await MetricsClient.ConnectAsync(endPoint, options);
            string key = prefix + slot.ToString(CultureInfo.InvariantCulture);
            long timestamp = 1_700_000_000;
            while (clock.Elapsed < end)
            {
                MetricSample[] samples = new MetricSample[batch];
                for (int i = 0; i < batch; i++)
                {
                    samples[i] = new MetricSample(key, 10.5, timestamp++);
                }

                bool measuring = clock.Elapsed >= from;
                long started = Stopwatch.GetTimestamp();
                await client.PutManyAsync(samples);
                Interlocked.Add(ref acknowledged, batch);
                if (measuring && clock.Elapsed < end)
                {
                    Interlocked.Add(ref measured, batch);
                    latencies[slot].Add(Stopwatch.GetTimestamp() - started);
                }
            }
        }

        try
        {
            await Task.WhenAll(Enumerable.Range(0, endPoints.Length * connections).Select(slot => Task.Run(() => PutLoopAsync(endPoints[slot % endPoints.Length], slot))));
        }
        catch (MetricsClientException ex)
        {
            Console.WriteLine($"  a connection failed: {ex.Message}");
            failures++;
        }

        long[] sorted = [.. latencies.Where(l => l is not null).SelectMany(l => l).Order()];
        string check = "";
        foreach (IPEndPoint endPoint in endPoints)
        {
            await using MetricsClient reader = await MetricsClient.ConnectAsync(endPoint, new MetricsClientOptions { RequestTimeout = TimeSpan.FromMinutes(5) });

            // Key by key (the stream outlives a topology, so only this topology's keys count).
            long points = 0;
            for (int slot = 0; slot < latencies.Length; slot++)
            {
                string key = prefix + slot.ToString(CultureInfo.InvariantCulture);
                points += (await reader.GetAsync(key)).TryGetValue(key, out IReadOnlyList<MetricPoint>? got) ? got.Count : 0;
            }

            if (points != Interlocked.Read(ref acknowledged))
            {
                failures++;
                check += $" node {endPoint.Port} holds {points} of {acknowledged} acknowledged points;";
            }
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {measured / (double)duration:0} puts/s acknowledged; batch of {batch}→all ok p50 {Ms(Percentile(sorted, 0.5)):0.00} ms p99 {Ms(Percentile(sorted, 0.99)):0.00} ms; " +
            $"{(check.Length == 0 ? $"every node's get * holds all {acknowledged} points" : check)}"));
        return failures;
    }

    private static long Percentile(long[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;
}
