using System.Diagnostics;
using System.Globalization;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Client;
using Rto.Client.Messenger;
using Rto.Server.Hosting;
using Rto.Server.Endpoints;
using Rto.Server.Tests.Cluster;

namespace Rto.Benchmarks.Load;

/// <summary>
/// <c>load cluster</c>: the same messenger load on one single node (no NATS), one node on a
/// 3-server JetStream cluster, and 3 nodes on it, in one run. Starts the nats-servers and the Rto
/// nodes itself (nodes in this process, each with its own NATS connection). Per node: senders
/// with sends in flight, readers; reports acknowledged sends/s, deliveries/s and the p50/p99 of
/// send→acknowledgement and send→delivery.
/// </summary>
/// <remarks>
/// One machine cannot show scale: every server shares its cores. The figures say what one
/// operation costs in each topology (docs/performance.md has the capacity model). Only the
/// messenger for now; metrics, meters, jobs and RTO calls join as their cluster behaviour lands.
/// </remarks>
public static class ClusterLoad
{
    private const string Usage =
        "usage: load cluster [--duration 10] [--warmup 2] [--senders 1] [--inflight 8] [--readers 2] [--window 2000] [--size 32] [--only single|one|three]   (per node: senders, sends in flight per sender, readers)";

    public static async Task<int> RunAsync(string[] args)
    {
        if (args is ["metrics", ..])
        {
            return await ClusterMetricsLoad.RunAsync(args[1..]);
        }

        Settings settings;
        try
        {
            settings = Settings.Parse(args);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + Usage);
            return 2;
        }

        Console.WriteLine($"load cluster (messenger): {settings.Senders} sender(s) x {settings.InFlight} in flight and {settings.Readers} readers per node, text {settings.Size} B, " +
            $"warm-up {settings.Warmup} s, {settings.Duration} s each, {Environment.ProcessorCount} cores");
        int failures = 0;
        if (settings.Only is null or "single")
        {
            failures += await RunTopologyAsync("1 node, single (no NATS)", null, 1, settings);
        }

        if (settings.Only is not "single")
        {
            await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
            if (settings.Only is null or "one")
            {
                failures += await RunTopologyAsync("1 node on NATS (3 servers, R3)", nats.Urls, 1, settings);
            }

            if (settings.Only is null or "three")
            {
                failures += await RunTopologyAsync("3 nodes on NATS (3 servers, R3)", nats.Urls, 3, settings);
            }
        }

        return failures == 0 ? 0 : 1;
    }

    private static async Task<int> RunTopologyAsync(string name, string? nats, int nodeCount, Settings settings)
    {
        var nodes = new List<WebApplication>();
        try
        {
            for (int i = 0; i < nodeCount; i++)
            {
                string[] args =
                [
                    "--Metrics:Enabled=false", "--Jobs:Enabled=false", "--Meters:Enabled=false", "--Health:Enabled=false", "--Optimization:Enabled=false", "--Console:Enabled=false",
                    "--Messenger:Address=127.0.0.1", "--Messenger:Port=0", "--Messenger:StreamBufferCapacity=65536", "--Logging:LogLevel:Default=Warning",
                    .. nats is null ? Array.Empty<string>() : [$"--Cluster:Nats={nats}", $"--Cluster:NodeName=load{i}"],
                ];
                WebApplication node = RtoServer.Build(args);
                await node.StartAsync();
                nodes.Add(node);
            }

            string[] addresses = [.. nodes.Select(n => $"127.0.0.1:{n.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Messenger).Port}")];
            return await MeasureAsync(name, addresses, settings);
        }
        finally
        {
            foreach (WebApplication node in nodes)
            {
                await node.StopAsync();
                await node.DisposeAsync();
            }
        }
    }

    private static async Task<int> MeasureAsync(string name, string[] addresses, Settings settings)
    {
        MessengerClient[] clients = await Task.WhenAll(addresses.Select(a => MessengerClient.ConnectAsync(GrpcAddress.Parse(a), new MessengerClientOptions { RequestTimeout = TimeSpan.FromSeconds(30) })));
        var readers = new List<Reader>();
        foreach (MessengerClient client in clients)
        {
            for (int r = 0; r < settings.Readers; r++)
            {
                readers.Add(new Reader(await client.SubscribeAsync()));
            }
        }

        using var stop = new CancellationTokenSource();
        Task[] reading = [.. readers.Select(r => r.RunAsync(stop.Token))];
        string padding = new('x', Math.Max(0, settings.Size - 20));
        var acks = new List<long>[clients.Length * settings.Senders * settings.InFlight];
        long sent = 0;
        long measuredFrom = 0, measuredSentFrom = 0;
        long[] receivedFrom = new long[readers.Count];
        var clock = Stopwatch.StartNew();
        TimeSpan warmup = TimeSpan.FromSeconds(settings.Warmup), end = warmup + TimeSpan.FromSeconds(settings.Duration);
        int measuring = 0;
        int failures = 0;

        async Task SendLoopAsync(MessengerClient client, int slot)
        {
            acks[slot] = [];
            while (clock.Elapsed < end)
            {
                if (clock.Elapsed >= warmup && Interlocked.CompareExchange(ref measuring, 1, 0) == 0)
                {
                    measuredFrom = Stopwatch.GetTimestamp();
                    measuredSentFrom = Interlocked.Read(ref sent);
                    for (int i = 0; i < readers.Count; i++)
                    {
                        receivedFrom[i] = readers[i].Received;
                        readers[i].RecordLatency = true;
                    }
                }

                // Never more than --window messages ahead of the slowest reader: a sustainable rate, not a burst into buffers.
                while (Interlocked.Read(ref sent) - readers.Min(r => r.Received) > settings.Window && clock.Elapsed < end)
                {
                    await Task.Delay(1);
                }

                long started = Stopwatch.GetTimestamp();
                await client.SendAsync("load", started.ToString(CultureInfo.InvariantCulture) + " " + padding);
                Interlocked.Increment(ref sent);
                if (Volatile.Read(ref measuring) == 1)
                {
                    acks[slot].Add(Stopwatch.GetTimestamp() - started);
                }
            }
        }

        try
        {
            int slot = 0;
            await Task.WhenAll(clients.SelectMany(client => Enumerable.Range(0, settings.Senders * settings.InFlight).Select(_ => slot++).ToArray()
                .Select(s => Task.Run(() => SendLoopAsync(client, s)))));
        }
        catch (MessengerClientException ex)
        {
            Console.WriteLine($"  sender failed: {ex.Message}");
            failures++;
        }

        long measuredTo = Stopwatch.GetTimestamp();
        long measuredSent = Interlocked.Read(ref sent) - measuredSentFrom;
        long deliveries = readers.Select((r, i) => r.Received - receivedFrom[i]).Sum();
        readers.ForEach(r => r.RecordLatency = false);
        var drain = Stopwatch.StartNew();
        while (readers.Min(r => r.Received) < Interlocked.Read(ref sent) && drain.Elapsed < TimeSpan.FromSeconds(30) && readers.All(r => r.Failure is null))
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await Task.WhenAll(reading);
        foreach (Reader reader in readers.Where(r => r.Failure is not null || r.Received != sent))
        {
            failures++;
            Console.WriteLine($"  reader got {reader.Received} of {sent} messages{(reader.Failure is null ? "" : ": " + reader.Failure.Message)}");
        }

        double seconds = (measuredTo - measuredFrom) / (double)Stopwatch.Frequency;
        long[] ackLatencies = [.. acks.Where(a => a is not null).SelectMany(a => a).Order()];
        long[] deliveryLatencies = [.. readers.SelectMany(r => r.Latencies).Order()];
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{name}: {measuredSent / seconds:0} sends/s acknowledged, {deliveries / seconds:0} deliveries/s; " +
            $"send→ack p50 {Ms(Percentile(ackLatencies, 0.5)):0.00} ms p99 {Ms(Percentile(ackLatencies, 0.99)):0.00} ms; " +
            $"send→delivery p50 {Ms(Percentile(deliveryLatencies, 0.5)):0.00} ms p99 {Ms(Percentile(deliveryLatencies, 0.99)):0.00} ms; " +
            $"{(failures == 0 ? $"every reader got all {sent} in order" : $"{failures} failures")}"));
        readers.ForEach(r => r.Dispose());
        Array.ForEach(clients, c => c.Dispose());
        return failures;
    }

    private static long Percentile(long[] sorted, double p) => sorted.Length == 0 ? 0 : sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    /// <summary>One stream: counts messages, checks that send times ascend, records send→delivery latency while measuring.</summary>
    private sealed class Reader(MessageSubscription subscription) : IDisposable
    {
        private long _received;

        public long Received => Interlocked.Read(ref _received);

        public volatile bool RecordLatency;

        public List<long> Latencies { get; } = [];

        public Exception? Failure { get; private set; }

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            string last = "";
            try
            {
                await foreach (ChatMessage message in subscription.ReadAllAsync(cancellationToken))
                {
                    long now = Stopwatch.GetTimestamp();
                    string time = message.SendTimeText;
                    if (string.CompareOrdinal(time, last) <= 0)
                    {
                        throw new InvalidOperationException($"out of order: {time} after {last}");
                    }

                    last = time;
                    if (RecordLatency)
                    {
                        ReadOnlySpan<char> text = message.Text;
                        Latencies.Add(now - long.Parse(text[..text.IndexOf(' ')], CultureInfo.InvariantCulture));
                    }

                    Interlocked.Increment(ref _received);
                }
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }
            catch (Exception ex)
            {
                Failure = ex;
            }
        }

        public void Dispose() => subscription.Dispose();
    }

    private sealed record Settings(int Duration, int Warmup, int Senders, int InFlight, int Readers, int Window, int Size, string? Only)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(10, 2, 1, 8, 2, 2000, 32, null);
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                string value = i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value.");
                settings = name switch
                {
                    "--duration" => settings with { Duration = Positive(name, value) },
                    "--warmup" => settings with { Warmup = int.Parse(value, CultureInfo.InvariantCulture) },
                    "--senders" => settings with { Senders = Positive(name, value) },
                    "--inflight" => settings with { InFlight = Positive(name, value) },
                    "--readers" => settings with { Readers = Positive(name, value) },
                    "--window" => settings with { Window = Positive(name, value) },
                    "--size" => settings with { Size = Positive(name, value) },
                    "--only" when value is "single" or "one" or "three" => settings with { Only = value },
                    _ => throw new FormatException($"Unknown option {name} {value}."),
                };
            }

            return settings;
        }

        private static int Positive(string name, string value) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n > 0 ? n : throw new FormatException($"{name} must be a positive integer, not '{value}'.");
    }
}
