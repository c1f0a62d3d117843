using Rto.Client.Metrics;

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
