using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text;
using Rto.Client.Metrics;

namespace Rto.Server.Tests.Metrics;

[TestClass]
public sealed class MetricsClientTests
{
    private static readonly MetricsClientOptions s_fast = new() { ConnectTimeout = TimeSpan.FromSeconds(2), OperationTimeout = TimeSpan.FromMilliseconds(500) };

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
    public async Task AnErrorReplyBecomesAServerErrorAndTheClientStaysUsable()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Metrics:MaxLineLength=32");
        await using MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint);

        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => client.PutAsync(new string('k', 64), 1, 1));
        Assert.AreEqual(MetricsClientError.ServerError, error.Error);

        await client.PutAsync("short", 2, 2);
        Assert.AreEqual(2.0, (await client.GetAsync("short"))["short"][0].Value);
    }

    [TestMethod]
    public async Task AMalformedReplyBecomesAMalformedResponseError()
    {
        await using FakeServer fake = FakeServer.Start("bogus\n\n");
        await using MetricsClient client = await MetricsClient.ConnectAsync(fake.EndPoint, s_fast);

        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => client.PutAsync("k", 1, 1));
        Assert.AreEqual(MetricsClientError.MalformedResponse, error.Error);
    }

    [TestMethod]
    public async Task ASilentServerTimesOutWithinTheOperationTimeout()
    {
        await using FakeServer fake = FakeServer.Start(reply: null);
        await using MetricsClient client = await MetricsClient.ConnectAsync(fake.EndPoint, s_fast);

        var clock = Stopwatch.StartNew();
        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => client.GetAsync("k"));
        Assert.AreEqual(MetricsClientError.Timeout, error.Error);
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
        Assert.AreEqual(MetricsClientError.ConnectionLost, error.Error);
        await client.DisposeAsync();
    }

    [TestMethod]
    public async Task ConnectingToNothingFailsWithConnectionLost()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        var endPoint = (IPEndPoint)listener.LocalEndpoint;
        listener.Stop();

        MetricsClientException error = await Assert.ThrowsExactlyAsync<MetricsClientException>(() => MetricsClient.ConnectAsync(endPoint, s_fast));
        Assert.AreEqual(MetricsClientError.ConnectionLost, error.Error);
    }

    /// <summary>Accepts connections and answers every received chunk with a fixed reply, or never.</summary>
    private sealed class FakeServer : IAsyncDisposable
    {
        private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
        private readonly CancellationTokenSource _stop = new();
        private readonly List<TcpClient> _accepted = [];
        private Task _loop = Task.CompletedTask;

        public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

        public static FakeServer Start(string? reply)
        {
            var fake = new FakeServer();
            fake._listener.Start();
            fake._loop = fake.ServeAsync(reply);
            return fake;
        }

        public async ValueTask DisposeAsync()
        {
            await _stop.CancelAsync();
            _listener.Stop();
            try
            {
                await _loop;
            }
            catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
            {
                // Stopped.
            }

            foreach (TcpClient client in _accepted)
            {
                client.Dispose();
            }

            _stop.Dispose();
        }

        private async Task ServeAsync(string? reply)
        {
            while (!_stop.IsCancellationRequested)
            {
                TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
                _accepted.Add(client);
                _ = Task.Run(async () =>
                {
                    NetworkStream stream = client.GetStream();
                    byte[] buffer = new byte[4096];
                    while (await stream.ReadAsync(buffer, _stop.Token) > 0)
                    {
                        if (reply is not null)
                        {
                            await stream.WriteAsync(Encoding.UTF8.GetBytes(reply), _stop.Token);
                        }
                    }
                });
            }
        }
    }
}
