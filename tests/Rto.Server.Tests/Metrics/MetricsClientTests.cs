using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Rto.Client;
using Rto.Client.Metrics;

namespace Rto.Server.Tests.Metrics;

[TestClass]
public sealed class MetricsClientTests
{
    private static readonly MetricsClientOptions s_fast = new() { ConnectTimeout = TimeSpan.FromSeconds(2), RequestTimeout = TimeSpan.FromMilliseconds(500) };

    [TestMethod]
    public async Task PutsAndGetsRoundTripSortedByTimestamp()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);

        await client.PutAsync("boiler.t", 81.5, 20);
        await client.PutAsync("boiler.t", 80.0, 10);
        await client.PutAsync("boiler.p", 1e-7, 10);
        long before = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await client.PutAsync("boiler.now", 1);
        long after = DateTimeOffset.UtcNow.ToUnixTimeSeconds();

        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> one = await client.GetAsync("boiler.t");
        CollectionAssert.AreEqual(new[] { new MetricPoint(10, 80.0), new MetricPoint(20, 81.5) }, one["boiler.t"].ToArray());
        Assert.HasCount(1, one);

        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await client.GetAsync("*");
        Assert.HasCount(3, all);
        Assert.AreEqual(1e-7, all["boiler.p"][0].Value);
        Assert.IsTrue(all["boiler.now"][0].Timestamp >= before && all["boiler.now"][0].Timestamp <= after);
        Assert.IsEmpty(await client.GetAsync("missing"));
    }

    [TestMethod]
    public async Task ConcurrentCallsOnOneClientArePipelinedAndAllCorrect()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);

        await Task.WhenAll(Enumerable.Range(0, 32).Select(async worker =>
        {
            string key = $"worker{worker}";
            for (int i = 0; i < 50; i++)
            {
                await client.PutAsync(key, worker + (i / 100.0), i);
                IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> mine = await client.GetAsync(key);
                Assert.HasCount(i + 1, mine[key]);
                Assert.AreEqual(worker + (i / 100.0), mine[key][^1].Value);
            }
        }));
    }

    [TestMethod]
    public async Task BulkPutStoresEveryPoint()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);

        await client.PutManyAsync(Enumerable.Range(0, 20_000).Select(i => new MetricSample($"bulk.{i % 7}", i, i)));

        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> all = await client.GetAsync("*");
        Assert.AreEqual(20_000, all.Values.Sum(p => p.Count));
    }

    [TestMethod]
    public async Task AnInvalidSampleInABulkPutSendsNothing()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);

        await Assert.ThrowsExactlyAsync<ArgumentException>(() => client.PutManyAsync([new("ok", 1, 1), new("not ok", 1, 1)]));
        await Assert.ThrowsExactlyAsync<ArgumentException>(() => client.PutAsync("k", double.PositiveInfinity, 1));

        Assert.IsEmpty(await client.GetAsync("*"), "the client is still in step with the server");
    }

    [TestMethod]
    public async Task AnErrorReplyIsARejectionAndTheClientStaysUsable()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Metrics:MaxLineLength=32");
        await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);

        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => client.PutAsync(new string('k', 64), 1, 1));
        Assert.AreEqual(ClientErrorKind.Rejected, error.ErrorKind);

        await client.PutAsync("short", 2, 2);
        Assert.AreEqual(2.0, (await client.GetAsync("short"))["short"][0].Value);
    }

    [TestMethod]
    public async Task AMalformedReplyIsAProtocolViolation()
    {
        await using FakeServer fake = FakeServer.Start("bogus\n\n");
        await using MetricsClient client = await MetricsClient.ConnectAsync(fake.EndPoint, s_fast);

        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => client.PutAsync("k", 1, 1));
        Assert.AreEqual(ClientErrorKind.ProtocolViolation, error.ErrorKind);
    }

    [TestMethod]
    public async Task ASilentServerTimesOutWithinTheRequestTimeout()
    {
        await using FakeServer fake = FakeServer.Start(reply: null);
        await using MetricsClient client = await MetricsClient.ConnectAsync(fake.EndPoint, s_fast);

        var clock = Stopwatch.StartNew();
        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => client.GetAsync("k"));
        Assert.AreEqual(ClientErrorKind.Timeout, error.ErrorKind);
        Assert.IsLessThan(TimeSpan.FromSeconds(5), clock.Elapsed);
    }

    [TestMethod]
    public async Task AServerThatGoesAwayFailsPendingAndLaterCalls()
    {
        TestServer server = await TestServer.StartAsync();
        MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint, s_fast);
        await client.PutAsync("k", 1, 1);

        await server.DisposeAsync();

        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => client.PutAsync("k", 2, 2));
        Assert.AreEqual(ClientErrorKind.ConnectionLost, error.ErrorKind);
        await client.DisposeAsync();
    }

    [TestMethod]
    public async Task ConnectingToNothingFailsWithConnectFailed()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endPoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();

        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => MetricsClient.ConnectAsync(endPoint, s_fast));
        Assert.AreEqual(ClientErrorKind.ConnectFailed, error.ErrorKind);
        Assert.IsInstanceOfType<ClientException>(error, "every client's exception derives from the one base");
    }
}
