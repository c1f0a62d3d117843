using System.Diagnostics;
using System.Text;
using Microsoft.Extensions.DependencyInjection;
using Rto.Client.Metrics;
using Rto.Server.Metrics;

namespace Rto.Server.Tests.Metrics;

/// <summary>One bad client never hurts another, and many clients at once lose nothing.</summary>
[TestClass]
public sealed class MetricsRobustnessTests
{
    [TestMethod]
    public async Task ABadClientDoesNotDisturbAGoodOne()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using RawConnection good = await RawConnection.OpenAsync(server.MetricsEndPoint);
        await using RawConnection bad = await RawConnection.OpenAsync(server.MetricsEndPoint);

        byte[] garbage = new byte[256 * 1024];
        new Random(7).NextBytes(garbage);
        await bad.SendAsync(garbage);
        await good.RoundTripAsync("put good 1 1\n", "ok\n\n");

        // The bad client disconnects mid-line without reading its replies.
        await bad.SendAsync("put half"u8.ToArray());
        await bad.DisposeAsync();

        await good.RoundTripAsync("put good 2 2\nget good\n", "ok\n\nok\ngood 1.0 1\ngood 2.0 2\n\n");
    }

    [TestMethod]
    public async Task AHundredConcurrentClientsPuttingDisjointKeysLoseNothing()
    {
        await using TestServer server = await TestServer.StartAsync();
        const int Clients = 100;
        const int PointsPerClient = 50;

        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async c =>
        {
            await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);
            for (int i = 0; i < PointsPerClient; i++)
            {
                await client.PutAsync($"client{c}.value", i * 0.5, 1000 + i);
            }
        }));

        await using MetricsClient reader = await MetricsClient.ConnectAsync(server.MetricsEndPoint);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await reader.GetAsync("*");
        Assert.HasCount(Clients, all);
        for (int c = 0; c < Clients; c++)
        {
            IReadOnlyList<MetricPoint> points = all[$"client{c}.value"];
            CollectionAssert.AreEqual(Enumerable.Range(0, PointsPerClient).Select(i => new MetricPoint(1000 + i, i * 0.5)).ToList(), points.ToList());
        }
    }

    /// <summary>
    /// Commits from many connections (each one writing for the others or waiting for a write)
    /// while the log rolls every 4 KB and checkpoints run in the background: nothing deadlocks,
    /// nothing is lost.
    /// </summary>
    [TestMethod]
    [DataRow("Never")]
    [DataRow("Always")]
    public async Task ManyConnectionsCommittingWhileTheLogRollsAndCheckpointsLoseNothing(string fsync)
    {
        TestServer server = await TestServer.StartAsync(null, "--Metrics:SegmentSize=4096", $"--Metrics:Fsync={fsync}");
        try
        {
            await PutAndCheckAsync(server);
        }
        finally
        {
            // A deadlocked store would hang the shutdown too: fail instead of hanging the run.
            await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(30));
        }
    }

    private static async Task PutAndCheckAsync(TestServer server)
    {
        const int Clients = 16;
        const int Points = 3000;
        await Task.WhenAll(Enumerable.Range(0, Clients).Select(async c =>
        {
            await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);
            if (c % 2 == 0)
            {
                await client.PutManyAsync(Enumerable.Range(0, Points).Select(i => new MetricSample($"roll.c{c}", i, i)));
            }
            else
            {
                for (int i = 0; i < Points / 10; i++)
                {
                    await client.PutAsync($"roll.c{c}", i, i);
                }
            }
        })).WaitAsync(TimeSpan.FromSeconds(60));

        await using MetricsClient reader = await MetricsClient.ConnectAsync(server.MetricsEndPoint);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await reader.GetAsync("*");
        for (int c = 0; c < Clients; c++)
        {
            Assert.HasCount(c % 2 == 0 ? Points : Points / 10, all[$"roll.c{c}"], $"client {c}");
        }

        Assert.IsNotEmpty(Directory.GetFiles(server.DataDirectory, "snapshot-*.snap"), "checkpoints ran");
    }

    /// <summary>
    /// Issue 15 item 7: five readers of a 5-million-point key that read nothing took RSS from 369 to
    /// 831 MB (each reply was formatted whole into its connection's buffer, under the series lock),
    /// and a put to that key waited 726 ms. Now a reply is streamed a bounded run at a time.
    /// </summary>
    [TestMethod]
    public async Task SlowReadersOfALargeKeyHoldNeitherMemoryNorThePutsToIt()
    {
        const int Points = 1_000_000;
        const int Readers = 4;
        await using TestServer server = await TestServer.StartAsync();
        MetricStore store = server.Services.GetRequiredService<MetricStore>();
        long position = 0;
        for (int i = 0; i < Points; i++)
        {
            store.Put("big"u8, 1_700_000_000 + i, (i % 1000) / 10.0, out position);
        }

        store.Commit(position);
        string expected = Expected();

        // Each reader asks for the whole key, reads the first 64 KB, then stops reading.
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var readers = new List<RawConnection>();
        for (int r = 0; r < Readers; r++)
        {
            RawConnection reader = await RawConnection.OpenAsync(server.MetricsEndPoint);
            readers.Add(reader);
            await reader.SendAsync("get big\n");
            Assert.AreEqual(expected[..65536], Encoding.ASCII.GetString(await reader.ReceiveAsync(65536)));
        }

        // A put to the key being read goes through at once.
        long started = Stopwatch.GetTimestamp();
        await using (RawConnection writer = await RawConnection.OpenAsync(server.MetricsEndPoint))
        {
            await writer.RoundTripAsync($"put big 1.5 {1_700_000_000 + Points}\n", "ok\n\n");
        }

        TimeSpan putTook = Stopwatch.GetElapsedTime(started);

        // Buffering the four whole replies would have taken over 100 MB (about 28 bytes a line).
        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        Assert.IsLessThan(32L << 20, allocated, $"{allocated >> 20} MB allocated while {Readers} readers stalled");
        Assert.IsLessThan(TimeSpan.FromSeconds(2), putTook);

        // Each reader then gets its whole reply, byte for byte (the later put may or may not be in it).
        foreach (RawConnection reader in readers)
        {
            string rest = Encoding.ASCII.GetString(await reader.ReceiveAsync(expected.Length - 65536));
            Assert.AreEqual(expected[65536..], rest, "the rest of the reply");
            string newer = $"big 1.5 {1_700_000_000 + Points}\n\n";
            byte[] next = await reader.ReceiveAsync(1);
            if (next[0] != (byte)'\n')
            {
                Assert.AreEqual(newer, "b" + Encoding.ASCII.GetString(await reader.ReceiveAsync(newer.Length - 1)));
            }

            await reader.DisposeAsync();
        }

        static string Expected()
        {
            var text = new StringBuilder("ok\n", Points * 28);
            byte[] formatted = new byte[64];
            for (int i = 0; i < Points; i++)
            {
                Protocols.Metrics.MetricValue.TryFormat((i % 1000) / 10.0, formatted, out int length);
                text.Append("big ").Append(Encoding.ASCII.GetString(formatted, 0, length)).Append(' ').Append(1_700_000_000 + i).Append('\n');
            }

            return text.ToString();
        }
    }

    [TestMethod]
    public async Task StoppingTheServerClosesIdleConnectionsPromptly()
    {
        TestServer server = await TestServer.StartAsync();
        await using RawConnection idle = await RawConnection.OpenAsync(server.MetricsEndPoint);
        await idle.RoundTripAsync("put k 1 1\n", "ok\n\n");

        // Without honouring Kestrel's close request, stopping would wait for the shutdown timeout.
        await server.DisposeAsync().AsTask().WaitAsync(TimeSpan.FromSeconds(10));
        Assert.IsTrue(await idle.IsClosedByServerAsync());
    }
}
