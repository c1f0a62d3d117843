using System.Diagnostics;
using System.Globalization;
using System.Net;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Client;
using Rto.Client.Messenger;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;

namespace Rto.Benchmarks.Load;

/// <summary>
/// Messenger fan-out load: one sender, N readers (each on its own connection, as separate
/// clients would be), over loopback. Reports deliveries per second (messages × readers that
/// received them) and the send-to-receive latency, measured from just before the sender's
/// <c>SendMessage</c> call to the moment a reader has the message.
/// </summary>
/// <remarks>
/// <c>--rate 0</c> sends as fast as the readers keep up: the sender pauses whenever the slowest
/// reader is more than <c>--window</c> messages behind, so the figure is a sustainable rate, not
/// a burst into buffers. <c>--rate N</c> paces the sender at N messages/s for latency figures.
/// Without <c>--server</c> the server runs in this process on a free loopback port.
/// </remarks>
public static class MessengerFanOutLoad
{
    private const string Usage =
        "usage: load messenger [--readers 100] [--connections 100] [--duration 10] [--warmup 1] [--rate 0|N] [--window 1000] [--inflight 32] [--size 32] [--server host:port]";

    /// <summary>Runs the load; returns 0 when every reader got every message, 1 otherwise, 2 on bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        Settings settings;
        try
        {
            settings = Settings.Parse(args is ["messenger", ..] ? args[1..] : args);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + Usage);
            return 2;
        }

        WebApplication? server = null;
        string address = settings.Server ?? "";
        if (settings.Server is null)
        {
            server = RtoServer.Build(
            [
                "--Metrics:Enabled=false", "--Jobs:Enabled=false", "--Meters:Enabled=false", "--Health:Enabled=false", "--Console:Enabled=false", "--Optimization:Enabled=false", "--Messenger:Address=127.0.0.1", "--Messenger:Port=0",
                $"--Messenger:StreamBufferCapacity={Math.Max(1024, settings.Window * 4)}", "--Logging:LogLevel:Default=Warning",
            ]);
            await server.StartAsync();
            IPEndPoint endPoint = server.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Messenger);
            address = $"127.0.0.1:{endPoint.Port}";
        }

        try
        {
            return await RunAgainstAsync(address, settings);
        }
        finally
        {
            if (server is not null)
            {
                await server.StopAsync();
                await server.DisposeAsync();
            }
        }
    }

    private static async Task<int> RunAgainstAsync(string address, Settings settings)
    {
        Console.WriteLine($"messenger fan-out: server {address}, {settings.Readers} readers on {Math.Min(settings.Connections, settings.Readers)} connections, rate {(settings.Rate == 0 ? "max" : settings.Rate.ToString(CultureInfo.InvariantCulture) + "/s")}, " +
            $"window {settings.Window}, {(settings.Rate == 0 ? settings.InFlight : 1)} sends in flight, text {settings.Size} B, warm-up {settings.Warmup} s, duration {settings.Duration} s, {Environment.ProcessorCount} cores");

        var readers = new Reader[settings.Readers];
        using var stop = new CancellationTokenSource();
        // Readers share --connections HTTP/2 connections (by default each has its own, as
        // separate client processes would).
        GrpcChannel[] channels = [.. Enumerable.Range(0, Math.Min(settings.Connections, settings.Readers)).Select(_ => MessengerClient.CreateChannel(GrpcAddress.Parse(address)))];
        for (int i = 0; i < readers.Length; i++)
        {
            readers[i] = new Reader(new MessengerClient(channels[i % channels.Length]));
        }

        // All at once: against a server that sends headers only with the first message (grpc-python)
        // each open takes the whole open timeout.
        var opening = Stopwatch.StartNew();
        await Task.WhenAll(readers.Select(r => r.OpenAsync()));
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{readers.Length} readers open in {opening.Elapsed.TotalSeconds:0.00} s"));

        Task[] reading = [.. readers.Select(r => r.RunAsync(stop.Token))];
        await using var sender = await MessengerClient.ConnectAsync(GrpcAddress.Parse(address));
        string padding = new('x', Math.Max(0, settings.Size - 20));
        long sent = 0;
        long measuredFrom = 0;
        long measureStartSent = 0;
        long[] measureStartReceived = new long[readers.Length];
        var clock = Stopwatch.StartNew();
        TimeSpan warmup = TimeSpan.FromSeconds(settings.Warmup);
        TimeSpan end = warmup + TimeSpan.FromSeconds(settings.Duration);
        double interval = settings.Rate > 0 ? Stopwatch.Frequency / (double)settings.Rate : 0;
        long paceStart = Stopwatch.GetTimestamp();
        long scheduled = 0;
        List<Task> pending = [];
        bool measuring = false;
        int failures = 0;

        // One caller (the pacer, or send slot 0) ends the warm-up, so the measured window starts at one known point.
        void StartMeasuring()
        {
            measuredFrom = Stopwatch.GetTimestamp();
            measureStartSent = Interlocked.Read(ref sent);
            for (int i = 0; i < readers.Length; i++)
            {
                measureStartReceived[i] = readers[i].Received;
                readers[i].RecordLatency = true;
            }

            measuring = true;
        }

        // Max rate: the one sender client keeps --inflight calls going on its connection.
        async Task SendLoopAsync(int slot)
        {
            while (clock.Elapsed < end)
            {
                if (slot == 0 && !measuring && clock.Elapsed >= warmup)
                {
                    StartMeasuring();
                }

                // Never more than --window messages ahead of the slowest reader.
                while (Interlocked.Read(ref sent) - MinReceived(readers) > settings.Window && clock.Elapsed < end)
                {
                    await Task.Delay(1);
                }

                await SendOneAsync();
            }
        }

        async Task SendOneAsync()
        {
            long started = Stopwatch.GetTimestamp();
            await sender.SendAsync("load", started.ToString(CultureInfo.InvariantCulture) + " " + padding);
            Interlocked.Increment(ref sent);
        }

        // Open loop for a fixed rate: sends start on schedule whether or not earlier ones have
        // finished, so slow replies show up as latency rather than as a lower rate. The pacer is
        // a dedicated thread, so a busy thread pool cannot delay the schedule into bursts.
        void Pace()
        {
            while (clock.Elapsed < end)
            {
                if (!measuring && clock.Elapsed >= warmup)
                {
                    StartMeasuring();
                }

                long wait = paceStart + (long)(scheduled * interval) - Stopwatch.GetTimestamp();
                if (wait > 0)
                {
                    Thread.Sleep(TimeSpan.FromSeconds(wait / (double)Stopwatch.Frequency));
                    continue;
                }

                scheduled++;
                pending.Add(SendOneAsync());
                if (pending.Count > 4096)
                {
                    pending.RemoveAll(t => t.IsCompletedSuccessfully);
                }
            }
        }

        try
        {
            if (interval > 0)
            {
                var pacer = new Thread(Pace) { IsBackground = true, Name = "messenger load pacer" };
                pacer.Start();
                await Task.Run(pacer.Join);
                await Task.WhenAll(pending);
            }
            else
            {
                await Task.WhenAll(Enumerable.Range(0, settings.InFlight).Select(slot => Task.Run(() => SendLoopAsync(slot))));
            }
        }
        catch (MessengerClientException ex)
        {
            Console.WriteLine($"sender failed: {ex.Message}");
            failures++;
        }

        long measuredTo = Stopwatch.GetTimestamp();
        long measuredSent = sent - measureStartSent;
        long measuredDeliveries = readers.Select((r, i) => r.Received - measureStartReceived[i]).Sum();
        foreach (Reader reader in readers)
        {
            reader.RecordLatency = false;
        }

        // Let the readers drain, then check that every one got every message.
        var drain = Stopwatch.StartNew();
        while (MinReceived(readers) < sent && drain.Elapsed < TimeSpan.FromSeconds(10) && readers.All(r => r.Failure is null))
        {
            await Task.Delay(10);
        }

        await stop.CancelAsync();
        await Task.WhenAll(reading);
        foreach (Reader reader in readers)
        {
            if (reader.Failure is not null)
            {
                failures++;
                Console.WriteLine($"reader failed: {reader.Failure.Message}");
            }
            else if (reader.Received != sent)
            {
                failures++;
                Console.WriteLine($"reader got {reader.Received} of {sent} messages");
            }

            reader.Dispose();
        }

        foreach (GrpcChannel channel in channels)
        {
            channel.Dispose();
        }

        double seconds = (measuredTo - measuredFrom) / (double)Stopwatch.Frequency;
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"sent {measuredSent} messages in {seconds:0.00} s = {measuredSent / seconds:0} msg/s; deliveries {measuredDeliveries} = {measuredDeliveries / seconds:0}/s"));

        long[] latencies = [.. readers.SelectMany(r => r.Latencies)];
        Array.Sort(latencies);
        if (latencies.Length > 0)
        {
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"send-to-receive latency over {latencies.Length} deliveries: p50 {Ms(Percentile(latencies, 0.50)):0.000} ms, p99 {Ms(Percentile(latencies, 0.99)):0.000} ms, p99.9 {Ms(Percentile(latencies, 0.999)):0.000} ms, max {Ms(latencies[^1]):0.000} ms"));
        }

        Console.WriteLine(failures == 0 ? $"every reader got all {sent} messages in order" : $"{failures} failures");
        return failures == 0 ? 0 : 1;
    }

    private static long MinReceived(Reader[] readers)
    {
        long min = long.MaxValue;
        foreach (Reader reader in readers)
        {
            min = Math.Min(min, reader.Received);
        }

        return min;
    }

    private static long Percentile(long[] sorted, double p) => sorted[Math.Min(sorted.Length - 1, (int)(p * sorted.Length))];

    private static double Ms(long ticks) => ticks * 1000.0 / Stopwatch.Frequency;

    private sealed class Reader(MessengerClient client) : IDisposable
    {
        private MessageSubscription? _subscription;
        private long _received;

        public long Received => Interlocked.Read(ref _received);

        public volatile bool RecordLatency;

        public List<long> Latencies { get; } = [];

        public Exception? Failure { get; private set; }

        public async Task OpenAsync() => _subscription = await client.SubscribeAsync();

        public async Task RunAsync(CancellationToken cancellationToken)
        {
            Timestamp? last = null;
            try
            {
                await foreach (ChatMessage message in _subscription!.ReadAllAsync(cancellationToken))
                {
                    long now = Stopwatch.GetTimestamp();
                    if (last is not null && message.SendTime <= last)
                    {
                        throw new InvalidOperationException($"out of order: {message.SendTimeText} after {MessengerTime.ToText(last)}");
                    }

                    last = message.SendTime;
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

        public void Dispose()
        {
            _subscription?.Dispose();
            client.Dispose();
        }
    }

    private sealed record Settings(int Readers, int Connections, int Duration, int Warmup, int Rate, int Window, int Size, int InFlight, string? Server)
    {
        public static Settings Parse(string[] args)
        {
            var settings = new Settings(100, int.MaxValue, 10, 1, 0, 1000, 32, 32, null);
            for (int i = 0; i < args.Length; i++)
            {
                string name = args[i];
                string value = i + 1 < args.Length ? args[++i] : throw new FormatException($"{name} needs a value.");
                settings = name switch
                {
                    "--readers" => settings with { Readers = Positive(name, value) },
                    "--connections" => settings with { Connections = Positive(name, value) },
                    "--duration" => settings with { Duration = Positive(name, value) },
                    "--warmup" => settings with { Warmup = NonNegative(name, value) },
                    "--rate" => settings with { Rate = NonNegative(name, value) },
                    "--window" => settings with { Window = Positive(name, value) },
                    "--size" => settings with { Size = Positive(name, value) },
                    "--inflight" => settings with { InFlight = Positive(name, value) },
                    "--server" => settings with { Server = value },
                    _ => throw new FormatException($"Unknown option {name}."),
                };
            }

            return settings;
        }

        private static int Positive(string name, string value) =>
            NonNegative(name, value) is > 0 and int n ? n : throw new FormatException($"{name} must be positive.");

        private static int NonNegative(string name, string value) =>
            int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int n) ? n : throw new FormatException($"{name} '{value}' is not a number.");
    }
}
