using System.Collections.Concurrent;
using System.Net;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging;
using Rto.Client.Messenger;
using Rto.Server.Tests.Messenger;

namespace Rto.Server.Tests.Observability;

[TestClass]
public sealed class ObservabilityTests
{
    [TestMethod]
    public async Task Health_endpoint_reports_every_check_as_json()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HealthEndPoint.Port}") };

        using HttpResponseMessage response = await http.GetAsync(new Uri("/health", UriKind.Relative));
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.AreEqual("Healthy", body.RootElement.GetProperty("status").GetString());
        JsonElement checks = body.RootElement.GetProperty("checks");
        CollectionAssert.AreEquivalent(new[] { "metrics", "jobs", "messenger", "meters", "optimization" }, checks.EnumerateObject().Select(c => c.Name).ToArray(), "one entry per enabled capability");
        Assert.AreEqual("Healthy", checks.GetProperty("metrics").GetProperty("status").GetString());
        Assert.IsGreaterThan(0L, checks.GetProperty("metrics").GetProperty("data").GetProperty("freeBytes").GetInt64());
        Assert.IsGreaterThan(0, checks.GetProperty("meters").GetProperty("data").GetProperty("registered").GetInt32());
        Assert.AreEqual(0, checks.GetProperty("jobs").GetProperty("data").GetProperty("running").GetInt32());
        Assert.AreEqual(0, checks.GetProperty("messenger").GetProperty("data").GetProperty("readers").GetInt32());
        Assert.AreEqual(0, checks.GetProperty("optimization").GetProperty("data").GetProperty("sessions").GetInt32());
    }

    [TestMethod]
    public async Task A_disabled_capability_has_no_health_entry()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:Enabled=false", "--Messenger:Enabled=false");
        using var http = new HttpClient();

        using JsonDocument body = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.HealthEndPoint.Port}/health")));
        CollectionAssert.AreEquivalent(new[] { "metrics", "meters", "optimization" }, body.RootElement.GetProperty("checks").EnumerateObject().Select(c => c.Name).ToArray());
    }

    [TestMethod]
    public async Task Liveness_runs_no_checks_and_health_is_only_on_its_own_port()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var http = new HttpClient();

        using JsonDocument live = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.HealthEndPoint.Port}/health/live")));
        Assert.AreEqual("Healthy", live.RootElement.GetProperty("status").GetString());
        Assert.AreEqual(0, live.RootElement.GetProperty("checks").EnumerateObject().Count());

        using HttpResponseMessage onMetersPort = await http.GetAsync(new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}/health"));
        Assert.AreEqual(HttpStatusCode.NotFound, onMetersPort.StatusCode);
    }

    [TestMethod]
    public async Task An_empty_meter_registry_degrades_health_but_keeps_it_200()
    {
        string registry = Path.Combine(TestServer.NewDataDirectory(), "empty.tsv");
        Directory.CreateDirectory(Path.GetDirectoryName(registry)!);
        await File.WriteAllTextAsync(registry, "");
        await using TestServer server = await TestServer.StartAsync(null, $"--Meters:RegistryPath={registry}");
        using var http = new HttpClient();

        using HttpResponseMessage response = await http.GetAsync(new Uri($"http://127.0.0.1:{server.HealthEndPoint.Port}/health"));
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        using JsonDocument body = JsonDocument.Parse(await response.Content.ReadAsStringAsync());
        Assert.AreEqual("Degraded", body.RootElement.GetProperty("status").GetString());
        JsonElement meters = body.RootElement.GetProperty("checks").GetProperty("meters");
        Assert.AreEqual("Degraded", meters.GetProperty("status").GetString());
        StringAssert.Contains(meters.GetProperty("description").GetString(), "registry is empty");
    }

    [TestMethod]
    public async Task Metrics_endpoint_counts_connections_requests_errors_and_bytes()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var recorder = new InstrumentRecorder(server.Services);
        const string Requests = "put a 1 1\nput a 2 2\nnonsense\nget a\n";
        const string Replies = "ok\n\nok\n\nerror\nwrong command\n\nok\na 1.0 1\na 2.0 2\n\n";

        await using (RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint))
        {
            await connection.RoundTripAsync(Requests, Replies);
            // A batch is reported after its replies are flushed, so the client can see them first.
            // A batch is reported after its replies are flushed, so the client can see them first;
            // the lines may also arrive in more than one batch.
            await recorder.WaitUntilAsync(
                r => r.Total("rto.requests", "metrics") == 4 && r.Total("rto.errors", "metrics", "malformed") == 1
                    && r.Total("rto.bytes.received", "metrics") == Requests.Length && r.Total("rto.bytes.sent", "metrics") == Replies.Length,
                "4 requests, 1 malformed, every byte counted both ways");
            Assert.AreEqual(1, recorder.Total("rto.connections.active", "metrics"));
            Assert.IsGreaterThanOrEqualTo(1, recorder.Total("rto.request.duration", "metrics"));
        }

        await recorder.WaitUntilAsync(r => r.Total("rto.connections.active", "metrics") == 0, "the connection to be closed");
        Assert.AreEqual(1, recorder.Total("rto.connections.opened", "metrics"));
    }

    [TestMethod]
    public async Task Meter_readings_and_rejections_are_counted()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var recorder = new InstrumentRecorder(server.Services);
        const string Lines = "10.0.0.1\t2024.04.27 14:00:00.000000\t100\n10.0.0.1\t2024.04.27 14:00:01.000000\t500\n10.9.9.9\t2024.04.27 14:00:01.000000\t1\nnonsense\n";

        await using RawConnection connection = await RawConnection.OpenAsync(server.MetersEndPoint);
        await connection.SendAsync(Lines);

        // The lines may arrive in more than one batch; each batch is reported as a whole.
        int bytes = System.Text.Encoding.UTF8.GetByteCount(Lines);
        await recorder.WaitUntilAsync(
            r => r.Total("rto.requests", "meters") == 4 && r.Total("rto.bytes.received", "meters") == bytes
                && r.Total("rto.errors", "meters", "out_of_range") == 1 && r.Total("rto.errors", "meters", "unknown_meter") == 1 && r.Total("rto.errors", "meters", "malformed") == 1,
            "4 meter lines: 1 accepted, 1 out of range, 1 unknown meter, 1 malformed");
        Assert.AreEqual(3, recorder.Total("rto.errors", "meters"));
    }

    [TestMethod]
    public async Task Jobs_errors_are_counted_by_reason()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var recorder = new InstrumentRecorder(server.Services);

        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync("{\"Header\": \"Nope\"}");
        _ = await connection.ReadToEndAsync();

        await recorder.WaitUntilAsync(r => r.Total("rto.errors", "jobs", "unknown_header") == 1, "an unknown_header error");
        Assert.AreEqual(1, recorder.Total("rto.requests", "jobs"));
    }

    [TestMethod]
    public async Task Grpc_calls_are_counted_on_their_endpoint()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var recorder = new InstrumentRecorder(server.Services);
        await using var client = await MessengerTestKit.ConnectClientAsync(server);

        await client.SendAsync("ann", "hello");

        await recorder.WaitUntilAsync(r => r.Total("rto.request.duration", "messenger") == 1, "one timed messenger call");
        Assert.AreEqual(1, recorder.Total("rto.requests", "messenger"));
        Assert.AreEqual(0, recorder.Total("rto.errors", "messenger"));
        Assert.IsGreaterThanOrEqualTo(1, recorder.Total("rto.connections.opened", "messenger"));
    }

    [TestMethod]
    public async Task Connection_events_are_logged_with_endpoint_and_remote_address()
    {
        var sink = new LogSink();
        await using TestServer server = await TestServer.StartAsync(null, builder =>
        {
            builder.Logging.AddProvider(sink);
            builder.Logging.AddFilter<LogSink>("Rto.Server.Endpoints", LogLevel.Debug);
        });

        int clientPort;
        await using (RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint))
        {
            clientPort = ((IPEndPoint)connection.LocalEndPoint!).Port;
            await connection.RoundTripAsync("put a 1 1\n", "ok\n\n");
        }

        await sink.Closed.Task.WaitAsync(TimeSpan.FromSeconds(10));
        LogSink.Entry[] events = [.. sink.Entries.Where(e => e.Fields.GetValueOrDefault("RemoteEndPoint") is IPEndPoint remote && remote.Port == clientPort)];
        Assert.HasCount(2, events, $"one opened and one closed event for port {clientPort}; logged: {string.Join(" | ", sink.Entries.Select(e => e.Message))}");
        foreach (LogSink.Entry entry in events)
        {
            Assert.AreEqual("metrics", entry.Fields["Endpoint"]?.ToString());
        }
    }

    /// <summary>Captures structured log events of the hosting category, with their message fields.</summary>
    private sealed class LogSink : ILoggerProvider
    {
        public ConcurrentQueue<Entry> Entries { get; } = new();

        public TaskCompletionSource Closed { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

        public void Dispose()
        {
        }

        public sealed record Entry(string Category, string Message, Dictionary<string, object?> Fields);

        private sealed class Logger(LogSink sink, string category) : ILogger
        {
            public IDisposable? BeginScope<TState>(TState state)
                where TState : notnull => null;

            public bool IsEnabled(LogLevel logLevel) => true;

            public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
            {
                if (!category.StartsWith("Rto.Server.Endpoints", StringComparison.Ordinal) || state is not IReadOnlyList<KeyValuePair<string, object?>> fields)
                {
                    return;
                }

                string message = formatter(state, exception);
                sink.Entries.Enqueue(new Entry(category, message, fields.ToDictionary(f => f.Key, f => f.Value)));
                if (message.EndsWith("closed", StringComparison.Ordinal))
                {
                    sink.Closed.TrySetResult();
                }
            }
        }
    }
}
