using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.Extensions.Logging;
using Rto.Server.Tests.Observability;

namespace Rto.Server.Tests.Endpoints;

/// <summary>
/// Abuse at scale (issue 15 item 9): ten thousand idle connections and a crowd of slowloris
/// clients must neither slow a good client down nor stay forever when the limits say otherwise.
/// The idle crowd runs against the server in its own process, so each side needs about ten
/// thousand descriptors rather than one process twenty thousand; the figures go to the test output.
/// </summary>
[TestClass]
public sealed class ConnectionAbuseTests
{
    private const int IdleConnections = 10_000;

    /// <summary>The good client's p99 round trip (a put and its ok) must stay below this whatever the crowd does; the machine may be busy.</summary>
    private const double GoodClientP99LimitMs = 200;

    public TestContext TestContext { get; set; } = null!;

    [TestMethod]
    public async Task Ten_thousand_idle_connections_are_held_while_a_good_client_stays_fast()
    {
        OpenFileLimit.Ensure(IdleConnections + 2_000);
        await using ServerProcess server = await ServerProcess.StartAsync(TestServer.NewDataDirectory());
        await using RawConnection good = await RawConnection.OpenAsync(server.MetricsEndPoint);
        double quietP99 = await GoodClientP99Async(good, 200, TimeSpan.Zero);
        long rssBefore = ResidentBytes(server.Id);

        await using IdleCrowd crowd = await IdleCrowd.OpenAsync(server.MetricsEndPoint, IdleConnections);
        double crowdedP99 = await GoodClientP99Async(good, 200, TimeSpan.Zero);
        long rssAfter = ResidentBytes(server.Id);

        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{IdleConnections} idle connections opened in {crowd.OpeningTime.TotalSeconds:F1} s; server RSS {rssBefore / 1048576.0:F1} -> {rssAfter / 1048576.0:F1} MB; good client p99 {quietP99:F2} ms quiet, {crowdedP99:F2} ms with the crowd"));
        Assert.AreEqual(0, crowd.ClosedCount, "the default limits keep every idle connection: " + server.Output);
        Assert.IsLessThan(GoodClientP99LimitMs, crowdedP99, "the good client's p99 with the idle crowd, ms");
    }

    [TestMethod]
    public async Task Ten_thousand_idle_connections_are_cut_at_a_short_idle_timeout()
    {
        OpenFileLimit.Ensure(IdleConnections + 2_000);
        await using ServerProcess server = await ServerProcess.StartAsync(TestServer.NewDataDirectory(), "--Metrics:IdleTimeout=00:00:02");
        await using IdleCrowd crowd = await IdleCrowd.OpenAsync(server.MetricsEndPoint, IdleConnections);

        try
        {
            await crowd.AllClosed.WaitAsync(TimeSpan.FromSeconds(60));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"{crowd.ClosedCount} of {IdleConnections} idle connections were closed within 60 s of a 2 s idle timeout.");
        }

        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{IdleConnections} idle connections opened in {crowd.OpeningTime.TotalSeconds:F1} s, all cut {crowd.LastClosedAfterLastOpened.TotalSeconds:F1} s after the last opened; lifetimes {crowd.ShortestLifetime.TotalSeconds:F2}-{crowd.LongestLifetime.TotalSeconds:F2} s"));
        Assert.IsGreaterThanOrEqualTo(1.9, crowd.ShortestLifetime.TotalSeconds, "no connection is cut before the idle timeout");
        StringAssert.Contains(server.Output, "idle timeout", "the cut is logged");
    }

    [TestMethod]
    public async Task Slowloris_clients_are_cut_at_the_frame_deadline_while_a_good_client_stays_fast()
    {
        const int Slowloris = 200;
        var log = new LogRecorder();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Logging.AddProvider(log), "--Metrics:FrameTimeout=00:00:03");
        using var recorder = new InstrumentRecorder(server.Services);
        await using RawConnection good = await RawConnection.OpenAsync(server.MetricsEndPoint);
        double quietP99 = await GoodClientP99Async(good, 100, TimeSpan.Zero);

        var clients = new List<RawConnection>();
        using var stop = new CancellationTokenSource();
        var cut = new List<Task<double>>();
        var trickles = new List<Task>();
        var started = Stopwatch.StartNew();
        for (int i = 0; i < Slowloris; i++)
        {
            RawConnection client = await RawConnection.OpenAsync(server.MetricsEndPoint);
            clients.Add(client);
            trickles.Add(ConnectionLimitsTests.TrickleAsync(client, $"put slowloris.{i} 1 ", stop.Token));
            cut.Add(SecondsUntilClosedAsync(client, started));
        }

        // The good client keeps working for two seconds while every slowloris client trickles.
        double crowdedP99 = await GoodClientP99Async(good, 200, TimeSpan.FromMilliseconds(10));
        double[] cutAfter = await Task.WhenAll(cut);
        await stop.CancelAsync();
        await Task.WhenAll(trickles);
        foreach (RawConnection client in clients)
        {
            await client.DisposeAsync();
        }

        TestContext.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{Slowloris} slowloris clients (a byte every 100 ms) cut {cutAfter.Min():F2}-{cutAfter.Max():F2} s after they started; good client p99 {quietP99:F2} ms quiet, {crowdedP99:F2} ms among them"));
        Assert.IsLessThan(GoodClientP99LimitMs, crowdedP99, "the good client's p99 among slowloris clients, ms");
        Assert.IsGreaterThanOrEqualTo(2.9, cutAfter.Min(), "no slowloris client is cut before its frame deadline");
        Assert.IsLessThan(10, cutAfter.Max(), "every slowloris client is cut soon after its frame deadline");
        await recorder.WaitUntilAsync(r => r.Total("rto.errors", "metrics", "frame_timeout") == Slowloris, "a frame_timeout per slowloris client");
        LogRecorder.Entry[] logged = [.. log.Find("Rto.Server").Where(e => e.Message.Contains("frame", StringComparison.Ordinal))];
        Assert.HasCount(1, logged, "two hundred cuts within one log interval are one log line: " + log.Describe());
    }

    /// <summary>The p99 of <paramref name="count"/> put round trips, in milliseconds.</summary>
    private static async Task<double> GoodClientP99Async(RawConnection good, int count, TimeSpan pause)
    {
        double[] milliseconds = new double[count];
        for (int i = 0; i < count; i++)
        {
            long start = Stopwatch.GetTimestamp();
            await good.RoundTripAsync($"put good.client {i} {1_700_000_000 + i}\n", "ok\n\n");
            milliseconds[i] = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            if (pause > TimeSpan.Zero)
            {
                await Task.Delay(pause);
            }
        }

        Array.Sort(milliseconds);
        return milliseconds[(int)Math.Ceiling(0.99 * count) - 1];
    }

    private static async Task<double> SecondsUntilClosedAsync(RawConnection client, Stopwatch started)
    {
        Assert.IsTrue(await client.IsClosedByServerAsync(), "closed by the server");
        return started.Elapsed.TotalSeconds;
    }

    /// <summary>VmRSS of a process, from /proc.</summary>
    private static long ResidentBytes(int pid)
    {
        foreach (string line in File.ReadLines($"/proc/{pid}/status"))
        {
            if (line.StartsWith("VmRSS:", StringComparison.Ordinal))
            {
                return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
            }
        }

        throw new InvalidOperationException($"No VmRSS in /proc/{pid}/status.");
    }

    /// <summary>Many connections that never send a byte, each watching for the server to close it.</summary>
    private sealed class IdleCrowd : IAsyncDisposable
    {
        private readonly Socket[] _sockets;
        private readonly long[] _connecting;
        private readonly long[] _opened;
        private readonly long[] _closed;
        private readonly Task[] _watches;
        private long _lastOpened;
        private int _closedCount;

        private IdleCrowd(int count)
        {
            _sockets = new Socket[count];
            _connecting = new long[count];
            _opened = new long[count];
            _closed = new long[count];
            _watches = new Task[count];
        }

        public TimeSpan OpeningTime { get; private set; }

        public int ClosedCount => Volatile.Read(ref _closedCount);

        public Task AllClosed => Task.WhenAll(_watches);

        /// <summary>From the start of its connect, which the server's timers cannot precede, to its close.</summary>
        public TimeSpan ShortestLifetime => Lifetimes().Min();

        public TimeSpan LongestLifetime => Lifetimes().Max();

        public TimeSpan LastClosedAfterLastOpened => Stopwatch.GetElapsedTime(_lastOpened, _closed.Max());

        public static async Task<IdleCrowd> OpenAsync(IPEndPoint server, int count)
        {
            var crowd = new IdleCrowd(count);
            long start = Stopwatch.GetTimestamp();

            // A few hundred at a time: Kestrel's accept backlog is 512.
            await Parallel.ForAsync(0, count, new ParallelOptions { MaxDegreeOfParallelism = 128 }, async (i, cancellation) =>
            {
                var socket = new Socket(AddressFamily.InterNetwork, SocketType.Stream, ProtocolType.Tcp);
                crowd._sockets[i] = socket;
                crowd._connecting[i] = Stopwatch.GetTimestamp();
                await socket.ConnectAsync(server, cancellation);
                crowd._opened[i] = Stopwatch.GetTimestamp();
                crowd._watches[i] = crowd.WatchAsync(i);
            });
            crowd._lastOpened = crowd._opened.Max();
            crowd.OpeningTime = Stopwatch.GetElapsedTime(start);
            return crowd;
        }

        public ValueTask DisposeAsync()
        {
            foreach (Socket? socket in _sockets)
            {
                socket?.Dispose();
            }

            return ValueTask.CompletedTask;
        }

        private IEnumerable<TimeSpan> Lifetimes() => _connecting.Select((connecting, i) => Stopwatch.GetElapsedTime(connecting, _closed[i]));

        private async Task WatchAsync(int i)
        {
            byte[] one = new byte[1];
            try
            {
                while (await _sockets[i].ReceiveAsync(one) != 0)
                {
                }
            }
            catch (Exception ex) when (ex is SocketException or ObjectDisposedException)
            {
                // Reset by the server, or disposed by the test: the connection is over either way.
            }

            _closed[i] = Stopwatch.GetTimestamp();
            Interlocked.Increment(ref _closedCount);
        }
    }
}
