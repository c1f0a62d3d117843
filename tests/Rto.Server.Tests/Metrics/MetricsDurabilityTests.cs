using Microsoft.Extensions.DependencyInjection;
using Rto.Client.Metrics;
using Rto.Server.Metrics;

namespace Rto.Server.Tests.Metrics;

/// <summary>Acknowledged puts survive crashes, restarts and compaction.</summary>
[TestClass]
public sealed class MetricsDurabilityTests
{
    private static async Task<IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>>> GetAllAsync(System.Net.IPEndPoint endPoint)
    {
        await using MetricsClient client = await MetricsClient.ConnectAsync(endPoint);
        return await client.GetAsync("*");
    }

    private static long CountPoints(IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all) => all.Values.Sum(p => (long)p.Count);

    [TestMethod]
    [DataRow("Never")]
    [DataRow("Always")]
    public async Task AcknowledgedPutsSurviveKillDashNine(string fsync)
    {
        string data = TestServer.NewDataDirectory();
        const int Points = 5000;
        await using (ServerProcess server = await ServerProcess.StartAsync(data, $"--Metrics:Fsync={fsync}"))
        {
            await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);
            await client.PutManyAsync(Enumerable.Range(0, Points).Select(i => new MetricSample($"crash.k{i % 10}", i, i)));
            await client.PutAsync("crash.last", 1.5, 99);
            await server.KillAsync();
        }

        await using ServerProcess restarted = await ServerProcess.StartAsync(data);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await GetAllAsync(restarted.MetricsEndPoint);
        Assert.AreEqual(Points + 1, CountPoints(all));
        Assert.AreEqual(new MetricPoint(99, 1.5), all["crash.last"].Single());
        Assert.AreEqual(new MetricPoint(4999, 4999), all["crash.k9"][^1]);
    }

    /// <summary>
    /// One put in flight on each of many connections: their acknowledgements share log writes
    /// (group commit), and the server is killed while puts are still arriving. Every put whose
    /// <c>ok</c> reached its client must be there after the restart.
    /// </summary>
    [TestMethod]
    [DataRow("Interval")]
    [DataRow("Always")]
    public async Task PutsAcknowledgedByASharedLogWriteSurviveKillDashNine(string fsync)
    {
        string data = TestServer.NewDataDirectory();
        const int Clients = 24;
        var acknowledged = new long[Clients];
        await using (ServerProcess server = await ServerProcess.StartAsync(data, $"--Metrics:Fsync={fsync}", "--Metrics:SegmentSize=65536"))
        {
            var enough = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            long total = 0;
            Task[] clients = [.. Enumerable.Range(0, Clients).Select(c => Task.Run(async () =>
            {
                try
                {
                    await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);
                    for (long t = 1; ; t++)
                    {
                        await client.PutAsync($"group.c{c}", t * 0.25, t);
                        acknowledged[c] = t;
                        if (Interlocked.Increment(ref total) == 3000)
                        {
                            enough.TrySetResult();
                        }
                    }
                }
                catch (MetricsClientException)
                {
                    // The server was killed under this client.
                }
            }))];

            await enough.Task.WaitAsync(TimeSpan.FromSeconds(60));
            await server.KillAsync();
            await Task.WhenAll(clients).WaitAsync(TimeSpan.FromSeconds(60));
        }

        await using ServerProcess restarted = await ServerProcess.StartAsync(data);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await GetAllAsync(restarted.MetricsEndPoint);
        for (int c = 0; c < Clients; c++)
        {
            IReadOnlyList<MetricPoint> points = all.TryGetValue($"group.c{c}", out IReadOnlyList<MetricPoint>? p) ? p : [];

            // Everything acknowledged, in order, and at most the one put in flight beyond it.
            Assert.IsGreaterThanOrEqualTo(acknowledged[c], (long)points.Count, $"client {c}");
            Assert.IsLessThanOrEqualTo(acknowledged[c] + 1, (long)points.Count, $"client {c}");
            for (int i = 0; i < points.Count; i++)
            {
                Assert.AreEqual(new MetricPoint(i + 1, (i + 1) * 0.25), points[i], $"client {c}");
            }
        }
    }

    [TestMethod]
    public async Task SigtermShutsDownCleanlyAndKeepsEverything()
    {
        string data = TestServer.NewDataDirectory();
        await using (ServerProcess server = await ServerProcess.StartAsync(data, "--Metrics:Fsync=Interval"))
        {
            await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
            {
                await client.PutManyAsync(Enumerable.Range(0, 1000).Select(i => new MetricSample("term", i, i)));
            }

            Assert.AreEqual(0, await server.TerminateAsync());
            StringAssert.Contains(server.Output, "Metric store closed");
        }

        await using ServerProcess restarted = await ServerProcess.StartAsync(data);
        Assert.AreEqual(1000, CountPoints(await GetAllAsync(restarted.MetricsEndPoint)));
    }

    [TestMethod]
    public async Task ATornLastRecordIsDroppedAndEverythingBeforeItRecovered()
    {
        string data = TestServer.NewDataDirectory();
        await using (TestServer server = await TestServer.StartAsync(data))
        await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
        {
            for (int i = 0; i < 100; i++)
            {
                await client.PutAsync("torn", i, i);
            }
        }

        // A crash mid-write leaves part of a record: here the first 20 bytes of a valid one.
        string segment = Directory.GetFiles(data, "segment-*.log").Order().Last(f => new FileInfo(f).Length > 8);
        byte[] bytes = await File.ReadAllBytesAsync(segment);
        int recordSize = (bytes.Length - 8) / 100;
        long goodLength = bytes.Length;
        await using (FileStream file = new(segment, FileMode.Append))
        {
            await file.WriteAsync(bytes.AsMemory(8, 20));
        }

        await using (TestServer server = await TestServer.StartAsync(data))
        await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
        {
            IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await client.GetAsync("*");
            CollectionAssert.AreEqual(Enumerable.Range(0, 100).Select(i => new MetricPoint(i, i)).ToList(), all["torn"].ToList());
            Assert.AreEqual(goodLength, new FileInfo(segment).Length, "the torn tail is cut off");
            Assert.IsGreaterThan(0, recordSize);
            await client.PutAsync("torn", 100, 100);
        }

        await using TestServer third = await TestServer.StartAsync(data);
        Assert.AreEqual(101, CountPoints(await GetAllAsync(third.MetricsEndPoint)));
    }

    [TestMethod]
    public async Task ACorruptedRecordStopsReplayAtThatRecord()
    {
        string data = TestServer.NewDataDirectory();
        await using (TestServer server = await TestServer.StartAsync(data))
        await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
        {
            for (int i = 0; i < 10; i++)
            {
                await client.PutAsync("flip", i, i);
            }
        }

        // Each put was committed on its own, so the segment's last frame holds the last put only.
        string segment = Directory.GetFiles(data, "segment-*.log").Order().Last(f => new FileInfo(f).Length > 8);
        byte[] bytes = await File.ReadAllBytesAsync(segment);
        bytes[^2] ^= 0x40; // flip a bit in the last put's value
        await File.WriteAllBytesAsync(segment, bytes);

        await using TestServer restarted = await TestServer.StartAsync(data);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await GetAllAsync(restarted.MetricsEndPoint);
        CollectionAssert.AreEqual(Enumerable.Range(0, 9).Select(i => new MetricPoint(i, i)).ToList(), all["flip"].ToList(), "the checksum catches the flipped bit");
    }

    [TestMethod]
    public async Task OverwritesDoNotGrowTheLogWithoutBound()
    {
        string data = TestServer.NewDataDirectory();
        const int Rounds = 200;
        await using (TestServer server = await TestServer.StartAsync(data, "--Metrics:SegmentSize=8192"))
        {
            await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);
            for (int round = 0; round < Rounds; round++)
            {
                // 20 live points, each rewritten every round: ~1 MB of log without compaction.
                await client.PutManyAsync(Enumerable.Range(0, 20).Select(i => new MetricSample($"hot.k{i}", round, i)));
            }

            // Compaction runs in the background after a segment rolls; force one more to be sure.
            server.Services.GetRequiredService<MetricStore>().Checkpoint();
        }

        long logBytes = Directory.GetFiles(data).Sum(f => new FileInfo(f).Length);
        Assert.IsLessThan(64 * 1024, logBytes, $"log is {logBytes} bytes for 20 live points");
        Assert.IsNotEmpty(Directory.GetFiles(data, "snapshot-*.snap"));

        await using TestServer restarted = await TestServer.StartAsync(data);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await GetAllAsync(restarted.MetricsEndPoint);
        Assert.HasCount(20, all);
        foreach ((string key, IReadOnlyList<MetricPoint> points) in all)
        {
            Assert.AreEqual(Rounds - 1.0, points.Single().Value, key);
        }
    }

    [TestMethod]
    public async Task ACleanRestartKeepsEveryPoint()
    {
        string data = TestServer.NewDataDirectory();
        await using (TestServer server = await TestServer.StartAsync(data))
        await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
        {
            await client.PutAsync("restart.a", 1.25, 10);
            await client.PutAsync("restart.a", 2.5, 10);
            await client.PutAsync("restart.b", -3, 5);
        }

        await using TestServer restarted = await TestServer.StartAsync(data);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await GetAllAsync(restarted.MetricsEndPoint);
        Assert.AreEqual(new MetricPoint(10, 2.5), all["restart.a"].Single());
        Assert.AreEqual(new MetricPoint(5, -3), all["restart.b"].Single());
    }
}
