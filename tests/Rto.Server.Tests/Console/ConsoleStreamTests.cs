using System.Diagnostics;
using System.Text.Json;
using Rto.Client.Meters;
using Rto.Client.Optimization;
using Rto.Protocols.Meters;
using Rto.Server.Console;
using Rto.Server.Messenger;

namespace Rto.Server.Tests.Console;

/// <summary>The live streams behind the pages: bounded update rates, whole state first, history that survives a restart.</summary>
[TestClass]
public sealed class ConsoleStreamTests
{
    /// <summary>Reads a server-sent event stream in the background, keeping each event's data and arrival time.</summary>
    private sealed class EventReader : IAsyncDisposable
    {
        private readonly HttpClient _http;
        private readonly CancellationTokenSource _stop = new();
        private readonly List<(long At, JsonElement Data)> _events = [];
        private readonly Task _reading;

        public EventReader(Uri address)
        {
            _http = new HttpClient { Timeout = Timeout.InfiniteTimeSpan };
            _reading = ReadAsync(address);
        }

        public List<(long At, JsonElement Data)> Events
        {
            get
            {
                lock (_events)
                {
                    return [.. _events];
                }
            }
        }

        public async Task<JsonElement> WaitForAsync(Func<JsonElement, bool> wanted, string what)
        {
            for (long deadline = Environment.TickCount64 + 30_000; ; await Task.Delay(20))
            {
                if (Events.Select(e => e.Data).FirstOrDefault(wanted) is { ValueKind: not JsonValueKind.Undefined } found)
                {
                    return found;
                }

                Assert.IsLessThan(deadline, Environment.TickCount64, $"no event with {what}");
                Assert.IsFalse(_reading.IsFaulted, _reading.Exception?.ToString());
            }
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAny(_reading);
            _http.Dispose();
            _stop.Dispose();
        }

        private async Task ReadAsync(Uri address)
        {
            using HttpResponseMessage response = await _http.GetAsync(address, HttpCompletionOption.ResponseHeadersRead, _stop.Token);
            Assert.AreEqual("text/event-stream", response.Content.Headers.ContentType!.MediaType);
            using var reader = new StreamReader(await response.Content.ReadAsStreamAsync(_stop.Token));
            while (await reader.ReadLineAsync(_stop.Token) is { } line)
            {
                if (line.StartsWith("data: ", StringComparison.Ordinal))
                {
                    lock (_events)
                    {
                        _events.Add((Stopwatch.GetTimestamp(), JsonDocument.Parse(line[6..]).RootElement.Clone()));
                    }
                }
            }
        }
    }

    [TestMethod]
    public async Task A_page_gets_a_bounded_number_of_updates_per_second_however_fast_readings_arrive()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Console:MaxUpdatesPerSecond=2", "--Meters:Fsync=Never");
        await using var events = new EventReader(new Uri(server.ConsoleAddress, "/api/meters/stream?window=60"));
        await events.WaitForAsync(e => e.GetProperty("counters").GetProperty("accepted").GetInt64() == 0, "the first, empty state");

        // Readings as fast as one connection can send them, for three seconds.
        uint meter = MetersClient.ParseIPv4("10.0.0.1");
        long sent = 0, t0 = MeterTimestamp.FromDateTime(DateTime.Now);
        var blast = Stopwatch.StartNew();
        long from = Stopwatch.GetTimestamp();
        await using (var client = await MetersClient.ConnectAsync(server.MetersEndPoint))
        {
            while (blast.Elapsed < TimeSpan.FromSeconds(3))
            {
                await client.SendManyAsync(Enumerable.Range(0, 1000).Select(i => new MeterReading(meter, t0 + sent + i, 100)));
                sent += 1000;
            }
        }

        long until = Stopwatch.GetTimestamp();
        double seconds = Stopwatch.GetElapsedTime(from, until).TotalSeconds;
        await events.WaitForAsync(e => e.GetProperty("counters").GetProperty("accepted").GetInt64() == sent, $"all {sent} readings counted");
        int during = events.Events.Count(e => e.At >= from && e.At <= until);
        Assert.IsGreaterThanOrEqualTo(2, during, "the page followed the readings live");
        Assert.IsLessThanOrEqualTo((int)Math.Ceiling(seconds * 2) + 1, during, $"{sent} readings in {seconds:F1} s gave {during} updates at most 2 a second");
        Assert.IsGreaterThan(10_000L, sent, "the stream was under load");
    }

    [TestMethod]
    public async Task A_session_stream_starts_with_the_whole_history_from_its_file_even_after_a_restart()
    {
        string data = TestServer.NewDataDirectory();
        string id;
        await using (TestServer before = await TestServer.StartAsync(data))
        {
            await using var client = await OptimizationClient.ConnectAsync("127.0.0.1", before.OptimizationEndPoint.Port);
            id = await client.StartAsync(new OptimizationSessionDefinition([new ManipulatedVariable("x", -2, 2)], [new ControlledVariable("c", Upper: 1)], MaxIterations: 20) { Maximize = true });
            OptimizationIteration iteration = await client.IterateAsync(id, null);
            for (int i = 0; i < 6; i++)
            {
                double x = iteration.Mvs[0];
                iteration = await client.IterateAsync(id, new OptimizationEvaluation(-(x * x), new Dictionary<string, double> { ["c"] = x }));
            }
        }

        await using TestServer server = await TestServer.StartAsync(data);
        await using var events = new EventReader(new Uri(server.ConsoleAddress, $"/api/optimization/{id}/stream"));
        JsonElement first = await events.WaitForAsync(e => e.GetProperty("reset").GetBoolean(), "the whole state");
        JsonElement added = first.GetProperty("added");
        Assert.AreEqual(6, added.GetArrayLength());
        CollectionAssert.AreEqual(new[] { 1, 2, 3, 4, 5, 6 }, added.EnumerateArray().Select(e => e.GetProperty("n").GetInt32()).ToArray());
        Assert.AreEqual("running", first.GetProperty("state").GetString());
        Assert.IsTrue(first.GetProperty("definition").GetProperty("maximize").GetBoolean());

        // Best so far never falls when maximizing, and ends at the session's best.
        double[] best = [.. added.EnumerateArray().Select(e => e.GetProperty("best").GetDouble())];
        for (int i = 1; i < best.Length; i++)
        {
            Assert.IsGreaterThanOrEqualTo(best[i - 1], best[i]);
        }

        Assert.AreEqual(first.GetProperty("best").GetProperty("objective").GetDouble(), best[^1]);

        // The next evaluation arrives as an update of its own.
        await using var again = await OptimizationClient.ConnectAsync("127.0.0.1", server.OptimizationEndPoint.Port);
        OptimizationIteration next = await again.IterateAsync(id, null);
        await again.IterateAsync(id, new OptimizationEvaluation(-1, new Dictionary<string, double> { ["c"] = next.Mvs[0] }));
        JsonElement update = await events.WaitForAsync(e => !e.GetProperty("reset").GetBoolean() && e.GetProperty("added").GetArrayLength() > 0, "the 7th evaluation");
        Assert.AreEqual(7, update.GetProperty("added")[0].GetProperty("n").GetInt32());

        using var http = new HttpClient { BaseAddress = server.ConsoleAddress };
        Assert.AreEqual(System.Net.HttpStatusCode.NotFound, (await http.GetAsync($"/api/optimization/{Guid.NewGuid()}/stream")).StatusCode);
    }

    [TestMethod]
    public void The_chat_room_reads_back_what_its_ring_still_holds()
    {
        using var room = new ChatRoom(new MessengerOptions { StreamBufferCapacity = 4 }, TimeProvider.System);
        for (int i = 0; i < 10; i++)
        {
            Assert.IsTrue(room.TryPublish("a", $"m{i}", out _));
        }

        long after = 0;
        CollectionAssert.AreEqual(new[] { "m6", "m7", "m8", "m9" }, room.ReadSince(ref after, 100).Select(m => m.Text).ToArray());
        Assert.AreEqual(10, after);
        Assert.IsEmpty(room.ReadSince(ref after, 100));
        room.TryPublish("b", "m10", out _);
        CollectionAssert.AreEqual(new[] { "m10" }, room.ReadSince(ref after, 100).Select(m => m.Text).ToArray());

        long recent = 0;
        CollectionAssert.AreEqual(new[] { "m9", "m10" }, room.ReadSince(ref recent, 2).Select(m => m.Text).ToArray());
    }

    [TestMethod]
    public void Thinning_a_long_series_keeps_its_extremes()
    {
        var points = Enumerable.Range(0, 100_000).Select(i => ((double)i, i == 54_321 ? 1e6 : i == 77_777 ? -1e6 : Math.Sin(i / 1000.0))).ToList();
        ChartSeries thin = ChartSeries.Thin("s", "", points, 2000);
        Assert.IsLessThanOrEqualTo(2000, thin.T.Count);
        Assert.AreEqual(thin.T.Count, thin.V.Count);
        CollectionAssert.Contains(thin.V, 1e6);
        CollectionAssert.Contains(thin.V, -1e6);
        CollectionAssert.AreEqual(thin.T.Order().ToList(), thin.T, "in time order");

        ChartSeries whole = ChartSeries.Thin("s", "", points.Take(500).ToList(), 2000);
        Assert.AreEqual(500, whole.T.Count);
    }
}
