using System.Diagnostics;
using System.Net;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Rto.Server.Tests.Observability;

namespace Rto.Server.Tests.Endpoints;

/// <summary>
/// The limits every endpoint holds its connections to (issue 15 item 9): a silent connection is
/// closed after the idle timeout, a frame that trickles in is cut at its deadline, connections
/// beyond the endpoint's limit are closed at once; each is counted by reason and logged at most
/// once per interval. HTTP endpoints are held to Kestrel's own limits.
/// </summary>
[TestClass]
public sealed class ConnectionLimitsTests
{
    [TestMethod]
    [DataRow("Metrics", "metrics")]
    [DataRow("Meters", "meters")]
    [DataRow("Jobs", "jobs")]
    public async Task A_silent_connection_is_closed_after_the_idle_timeout(string section, string endpoint)
    {
        await using TestServer server = await TestServer.StartAsync(null, $"--{section}:IdleTimeout=00:00:00.500");
        using var recorder = new InstrumentRecorder(server.Services);

        // Timed from before the connect: the server's timer cannot start earlier.
        var silent = Stopwatch.StartNew();
        await using RawConnection connection = await RawConnection.OpenAsync(EndPointOf(server, endpoint));

        Assert.IsTrue(await connection.IsClosedByServerAsync(), "closed by the server");
        Assert.IsGreaterThanOrEqualTo(0.4, silent.Elapsed.TotalSeconds, "not before the idle timeout");
        await recorder.WaitUntilAsync(r => r.Total("rto.errors", endpoint, "idle_timeout") == 1, "one idle_timeout error");
    }

    [TestMethod]
    [DataRow("Metrics", "metrics", "put slow.key 1 1")]
    [DataRow("Meters", "meters", "10.0.0.1\t2024.04.27 14:00:00.000000\t230")]
    [DataRow("Jobs", "jobs", """{"Header":"Info","Request":"Status""")]
    public async Task A_frame_that_trickles_in_is_cut_at_its_deadline(string section, string endpoint, string start)
    {
        // A byte every 100 ms resets any idle timer; only the frame deadline ends it.
        await using TestServer server = await TestServer.StartAsync(null, $"--{section}:FrameTimeout=00:00:01");
        using var recorder = new InstrumentRecorder(server.Services);
        await using RawConnection connection = await RawConnection.OpenAsync(EndPointOf(server, endpoint));
        var trickling = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        Task trickle = TrickleAsync(connection, start, stop.Token);

        bool closed = await connection.IsClosedByServerAsync();
        TimeSpan elapsed = trickling.Elapsed;
        await stop.CancelAsync();
        await trickle;

        Assert.IsTrue(closed, "closed by the server");
        Assert.IsGreaterThanOrEqualTo(0.9, elapsed.TotalSeconds, "not before the frame deadline");
        Assert.IsLessThan(6, elapsed.TotalSeconds, "at the frame deadline, not after the trickle ends");
        await recorder.WaitUntilAsync(r => r.Total("rto.errors", endpoint, "frame_timeout") == 1, "one frame_timeout error");
        Assert.AreEqual(0, recorder.Total("rto.errors", endpoint, "idle_timeout"));
    }

    [TestMethod]
    public async Task A_client_that_completes_each_frame_in_time_stays_connected()
    {
        // Eight lines, each split in two 300 ms apart: 2.4 s in all, longer than the deadline, but
        // every line completes well within it.
        await using TestServer server = await TestServer.StartAsync(null, "--Metrics:FrameTimeout=00:00:02");
        using var recorder = new InstrumentRecorder(server.Services);
        await using RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint);
        for (int i = 0; i < 8; i++)
        {
            await connection.SendAsync($"put paced.key {i} ");
            await Task.Delay(300);
            await connection.RoundTripAsync($"{1_700_000_000 + i}\n", "ok\n\n");
        }

        Assert.AreEqual(0, recorder.Total("rto.errors", "metrics"));
    }

    [TestMethod]
    [DataRow("Metrics", "metrics")]
    [DataRow("Health", "health")]
    public async Task Connections_beyond_the_limit_are_closed_at_once_counted_and_logged_once(string section, string endpoint)
    {
        var log = new LogRecorder();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Logging.AddProvider(log), $"--{section}:MaxConnections=3");
        using var recorder = new InstrumentRecorder(server.Services);
        IPEndPoint address = EndPointOf(server, endpoint);
        var held = new List<RawConnection>();
        for (int i = 0; i < 3; i++)
        {
            held.Add(await RawConnection.OpenAsync(address));
        }

        // Kestrel accepts in order: once all three are counted, the next ones are over the limit.
        await recorder.WaitUntilAsync(r => r.Total("rto.connections.opened", endpoint) == 3, "three connections held");
        for (int i = 0; i < 10; i++)
        {
            await using RawConnection refused = await RawConnection.OpenAsync(address);
            Assert.IsTrue(await refused.IsClosedByServerAsync(), $"connection {i + 4} is closed at once");
        }

        await recorder.WaitUntilAsync(r => r.Total("rto.errors", endpoint, "connection_limit") == 10, "ten connection_limit errors");
        LogRecorder.Entry[] warnings = [.. log.Find("Rto.Server", LogLevel.Warning).Where(e => e.Message.Contains("connection limit", StringComparison.Ordinal))];
        Assert.HasCount(1, warnings, log.Describe());
        StringAssert.Contains(warnings[0].Message, endpoint);

        // A slot that frees up is served again.
        await held[0].DisposeAsync();
        await recorder.WaitUntilAsync(r => r.Total("rto.connections.active", endpoint) == 2, "one connection fewer");
        await using RawConnection next = await RawConnection.OpenAsync(address);
        if (endpoint == "metrics")
        {
            await next.RoundTripAsync("put after.limit 1 1\n", "ok\n\n");
        }
        else
        {
            await next.SendAsync("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
            StringAssert.StartsWith(Encoding.ASCII.GetString(await next.ReceiveAsync(15)), "HTTP/1.1 200 ");
        }

        foreach (RawConnection connection in held.Skip(1))
        {
            await connection.DisposeAsync();
        }
    }

    [TestMethod]
    public async Task An_http_request_whose_headers_trickle_in_is_cut_by_kestrel()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Kestrel:Limits:RequestHeadersTimeout=00:00:01");
        await using RawConnection connection = await RawConnection.OpenAsync(server.HealthEndPoint);
        var trickling = Stopwatch.StartNew();
        using var stop = new CancellationTokenSource();
        Task trickle = TrickleAsync(connection, "GET /health/live HTTP/1.1\r\nX-Slow: ", stop.Token);

        string reply = await connection.ReadToEndAsync();
        TimeSpan elapsed = trickling.Elapsed;
        await stop.CancelAsync();
        await trickle;

        StringAssert.StartsWith(reply, "HTTP/1.1 408 ");
        Assert.IsLessThan(6, elapsed.TotalSeconds);
    }

    [TestMethod]
    public async Task A_silent_http_connection_is_closed_at_kestrels_keep_alive_timeout()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Kestrel:Limits:KeepAliveTimeout=00:00:01");
        await using RawConnection connection = await RawConnection.OpenAsync(server.HealthEndPoint);
        await connection.SendAsync("GET /health/live HTTP/1.1\r\nHost: x\r\n\r\n");
        var silent = Stopwatch.StartNew();

        StringAssert.StartsWith(await connection.ReadToEndAsync(), "HTTP/1.1 200 ");
        Assert.IsLessThan(6, silent.Elapsed.TotalSeconds);
    }

    [TestMethod]
    public async Task Kestrels_limits_are_read_from_configuration()
    {
        await using TestServer server = await TestServer.StartAsync(
            null,
            "--Kestrel:Limits:KeepAliveTimeout=00:00:07",
            "--Kestrel:Limits:MinRequestBodyDataRate:BytesPerSecond=100",
            "--Kestrel:Limits:MinRequestBodyDataRate:GracePeriod=00:00:09",
            "--Kestrel:Limits:Http2:MaxStreamsPerConnection=10");

        KestrelServerLimits limits = server.Services.GetRequiredService<IOptions<KestrelServerOptions>>().Value.Limits;
        Assert.AreEqual(TimeSpan.FromSeconds(7), limits.KeepAliveTimeout);
        Assert.AreEqual(100, limits.MinRequestBodyDataRate!.BytesPerSecond);
        Assert.AreEqual(TimeSpan.FromSeconds(9), limits.MinRequestBodyDataRate.GracePeriod);
        Assert.AreEqual(10, limits.Http2.MaxStreamsPerConnection);
        Assert.AreEqual(TimeSpan.FromSeconds(30), limits.RequestHeadersTimeout, "what is not configured keeps Kestrel's default");
    }

    internal static IPEndPoint EndPointOf(TestServer server, string endpoint) => endpoint switch
    {
        "metrics" => server.MetricsEndPoint,
        "meters" => server.MetersEndPoint,
        "jobs" => server.JobsEndPoint,
        "health" => server.HealthEndPoint,
        _ => throw new ArgumentOutOfRangeException(nameof(endpoint)),
    };

    /// <summary>Sends <paramref name="start"/> at once, then one more digit every 100 ms, never ending the frame, until stopped or cut.</summary>
    internal static async Task TrickleAsync(RawConnection connection, string start, CancellationToken stop)
    {
        try
        {
            await connection.SendAsync(start);
            while (!stop.IsCancellationRequested)
            {
                await Task.Delay(100, stop);
                await connection.SendAsync("7");
            }
        }
        catch (Exception ex) when (ex is OperationCanceledException or IOException or ObjectDisposedException)
        {
            // Stopped, or the server cut the connection: either way the trickle is over.
        }
    }
}
