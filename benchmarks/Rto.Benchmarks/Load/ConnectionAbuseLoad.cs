using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rto.Benchmarks.Load;

/// <summary>
/// Connection abuse against a running server's metrics endpoint (issue 15 item 9): a good client
/// measures its put round trips while quiet, beside thousands of idle connections, and beside a
/// crowd of slowloris clients (a byte every few milliseconds, never ending a line); the report gives
/// the server's working set, the good client's p50/p99, and when (if ever) the server cut the idle
/// and the trickling connections. The server runs in its own process, started with the limits under
/// test, so the same command measures any build.
/// </summary>
public static class ConnectionAbuseLoad
{
    private const string Usage = "usage: load connections --port N [--host 127.0.0.1] [--server-pid PID] [--idle 10000] [--slowloris 200] [--trickle-ms 100] [--samples 500] [--wait 30]";

    /// <summary>Runs the abuse; returns 0 when it ran (whatever the server did), 2 on bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        string host = "127.0.0.1";
        int port = -1, pid = -1, idle = 10_000, slowloris = 200, trickleMs = 100, samples = 500;
        double wait = 30;
        if (args.Length % 2 != 0)
        {
            Fail();
            return 2;
        }

        for (int i = 0; i < args.Length; i += 2)
        {
            string value = args[i + 1];
            bool ok = args[i] switch
            {
                "--host" => (host = value).Length > 0,
                "--port" => int.TryParse(value, CultureInfo.InvariantCulture, out port) && port > 0,
                "--server-pid" => int.TryParse(value, CultureInfo.InvariantCulture, out pid),
                "--idle" => int.TryParse(value, CultureInfo.InvariantCulture, out idle) && idle >= 0,
                "--slowloris" => int.TryParse(value, CultureInfo.InvariantCulture, out slowloris) && slowloris >= 0,
                "--trickle-ms" => int.TryParse(value, CultureInfo.InvariantCulture, out trickleMs) && trickleMs > 0,
                "--samples" => int.TryParse(value, CultureInfo.InvariantCulture, out samples) && samples > 0,
                "--wait" => double.TryParse(value, CultureInfo.InvariantCulture, out wait) && wait > 0,
                _ => false,
            };
            if (!ok)
            {
                Fail();
                return 2;
            }
        }

        if (port < 0)
        {
            Fail();
            return 2;
        }

        var server = new IPEndPoint(IPAddress.Parse(host), port);
        Report($"quiet: good client {await RoundTripsAsync(server, samples, 0)}; server RSS {Rss(pid)}");

        if (idle > 0)
        {
            await using Crowd crowd = await Crowd.OpenAsync(server, idle, trickleMs: 0);
            Report($"{idle} idle connections opened in {crowd.OpeningTime.TotalSeconds:F1} s: good client {await RoundTripsAsync(server, samples, 0)}; server RSS {Rss(pid)}");
            Report($"idle connections: {await crowd.WaitForCutAsync(TimeSpan.FromSeconds(wait))}");
        }

        if (slowloris > 0)
        {
            await using Crowd crowd = await Crowd.OpenAsync(server, slowloris, trickleMs);
            Report($"{slowloris} slowloris clients (a byte every {trickleMs} ms): good client {await RoundTripsAsync(server, samples, 10)}; server RSS {Rss(pid)}");
            Report($"slowloris clients: {await crowd.WaitForCutAsync(TimeSpan.FromSeconds(wait))}");
        }

        return 0;

        static void Fail() => Console.Error.WriteLine(Usage);
    }

    private static void Report(string line) => Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"{DateTime.UtcNow:HH:mm:ss} {line}"));

    private static string Rss(int pid) => pid < 0 ? "(no --server-pid)" : string.Create(CultureInfo.InvariantCulture, $"{MemorySnapshot.Take(inProcess: false, pid).WorkingSet / 1048576.0:F1} MB");

    /// <summary>
    /// <paramref name="count"/> put round trips, <paramref name="pauseMs"/> apart, on a connection of
    /// their own (the server may have closed an earlier one for being idle): their p50 and p99.
    /// </summary>
    private static async Task<string> RoundTripsAsync(IPEndPoint server, int count, int pauseMs)
    {
        using var good = new TcpClient { NoDelay = true };
        await good.ConnectAsync(server);
        NetworkStream stream = good.GetStream();
        double[] ms = new double[count];
        byte[] reply = new byte[4];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await stream.WriteAsync(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"put abuse.good {i} {1_700_000_000 + i}\n")));
            await stream.ReadExactlyAsync(reply);
            ms[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (pauseMs > 0)
            {
                await Task.Delay(pauseMs);
            }
        }

        Array.Sort(ms);
        return string.Create(CultureInfo.InvariantCulture, $"p50 {ms[count / 2]:F2} ms, p99 {ms[(int)Math.Ceiling(0.99 * count) - 1]:F2} ms, max {ms[^1]:F2} ms ({count} puts)");
    }

    /// <summary>Connections that send nothing (or trickle an endless line), each watching for the server to close it.</summary>
    private sealed class Crowd : IAsyncDisposable
    {
        private readonly Socket[] _sockets;
        private readonly long[] _opened;
        private readonly long[] _closed;
        private readonly Task[] _watches;
        private readonly CancellationTokenSource _stop = new();
        private int _cut;

        private Crowd(int count)
        {
            _sockets = new Socket[count];
            _opened = new long[count];
            _closed = new long[count];
            _watches = new Task[count];
        }

        public TimeSpan OpeningTime { get; private set; }

        public static async Task<Crowd> OpenAsync(IPEndPoint server, int count, int trickleMs)
        {
            var crowd = new Crowd(count);
            long start = Stopwatch.GetTimestamp();
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 128 }, async (i, cancellation) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
                crowd._sockets[i] = socket;
                await socket.ConnectAsync(server, cancellation);
                crowd._opened[i] = Stopwatch.GetTimestamp();
                crowd._watches[i] = trickleMs > 0 ? Task.WhenAll(crowd.WatchAsync(i), crowd.TrickleAsync(i, trickleMs)) : crowd.WatchAsync(i);
            });
            crowd.OpeningTime = Stopwatch.GetElapsedTime(start);
            return crowd;
        }

        /// <summary>Waits until the server has cut every connection, or <paramref name="wait"/> has passed since the last one opened.</summary>
        public async Task<string> WaitForCutAsync(TimeSpan wait)
        {
            long lastOpened = _opened.Max();
            TimeSpan left = wait - Stopwatch.GetElapsedTime(lastOpened);
            try
            {
                await Task.WhenAll(_watches).WaitAsync(left > TimeSpan.Zero ? left : TimeSpan.Zero);
            }
            catch (TimeoutException)
            {
                return string.Create(CultureInfo.InvariantCulture, $"{Volatile.Read(ref _cut)} of {_sockets.Length} cut by the server within {wait.TotalSeconds:F0} s of the last one opening");
            }

            TimeSpan[] lifetimes = [.. _opened.Select((opened, i) => Stopwatch.GetElapsedTime(opened, _closed[i]))];
            return string.Create(CultureInfo.InvariantCulture, $"all {_sockets.Length} cut by the server, the last {Stopwatch.GetElapsedTime(lastOpened, _closed.Max()).TotalSeconds:F2} s after the last one opened; each lived {lifetimes.Min().TotalSeconds:F2}-{lifetimes.Max().TotalSeconds:F2} s");
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            foreach (Socket socket in _sockets)
            {
                socket?.Dispose();
            }

            _stop.Dispose();
        }

        private async Task WatchAsync(int i)
        {
            byte[] one = new byte[1];
            try
            {
                while (await _sockets[i].ReceiveAsync(one) != 0)
                {
                }

                Interlocked.Increment(ref _cut);
            }
            catch (SocketException)
            {
                Interlocked.Increment(ref _cut);
            }
            catch (ObjectDisposedException)
            {
                // Closed by this side at the end of the run.
            }

            _closed[i] = Stopwatch.GetTimestamp();
        }

        private async Task TrickleAsync(int i, int trickleMs)
        {
            try
            {
                await _sockets[i].SendAsync(Encoding.ASCII.GetBytes(string.Create(CultureInfo.InvariantCulture, $"put abuse.slowloris.{i} 1 ")));
                while (true)
                {
                    await Task.Delay(trickleMs, _stop.Token);
                    await _sockets[i].SendAsync("7"u8.ToArray());
                }
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or ObjectDisposedException)
            {
                // Stopped, or cut by the server.
            }
        }
    }
}
