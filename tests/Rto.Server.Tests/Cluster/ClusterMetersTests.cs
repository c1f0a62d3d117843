using System.Diagnostics;
using System.Net.Http.Json;
using System.Net.Sockets;
using System.Text;
using System.Text.Json;

namespace Rto.Server.Tests.Cluster;

/// <summary>
/// Meters on two Rto nodes over one nats-server (Replicas=1: the bucket and stream behave the same
/// with three): the registry is the cluster's, an edit on one node reaches the other, and a
/// reading sent to one node is answered by the other's HTTP queries.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ClusterMetersTests
{
    [TestMethod]
    public async Task TheRegistryAndTheReadingsAreSharedByTheNodes()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(1);
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        string registryA = Path.Combine(directory, "meters-a.tsv");
        string registryB = Path.Combine(directory, "meters-b.tsv");
        await File.WriteAllTextAsync(registryA, "10.0.0.1\t0\t110\tV\n10.0.0.2\t0\t0.5\tA\n");
        await File.WriteAllTextAsync(registryB, "10.0.0.9\t0\t1\tV\n");

        // A seeds the empty bucket with its file; B, started later, takes the bucket's registry, not its own file.
        await using ServerProcess a = await StartNodeAsync(nats, 0, registryA);
        await using ServerProcess b = await StartNodeAsync(nats, 1, registryB);
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        CollectionAssert.AreEquivalent(new[] { "10.0.0.1", "10.0.0.2" }, await MeterIpsAsync(http, b), "B serves the cluster's registry");

        // A reading sent to A is answered by B.
        await SendAsync(a, "10.0.0.1\t2024.04.27 14:23:55.123456\t109.5\n10.0.0.1\t2024.04.27 14:23:56.000000\t200\n10.0.0.2\t2024.04.27 14:23:55.200000\t0.25\n");
        JsonElement readings = await WaitForAsync(http, b, "/meters/10.0.0.1/readings", r => r.GetArrayLength() == 1, "the reading sent to A, on B");
        Assert.AreEqual(109.5, readings[0].GetProperty("value").GetDouble());
        Assert.AreEqual("2024.04.27 14:23:55.123456", readings[0].GetProperty("timestamp").GetString());
        JsonElement counters = await GetAsync(http, a, "/meters/counters");
        Assert.AreEqual(2, counters.GetProperty("accepted").GetInt64(), "A counted the readings it published");
        Assert.AreEqual(1, counters.GetProperty("outOfRange").GetInt64(), "A validated against the registry");

        // Power: both nodes may compute the point of that voltage reading; the stream keeps it once, and both show it.
        foreach (ServerProcess node in new[] { a, b })
        {
            JsonElement power = await WaitForAsync(http, node, "/meters/power", p => p.GetArrayLength() > 0, "the power point");
            Assert.AreEqual(1, power.GetArrayLength(), power.ToString());
            Assert.AreEqual(109.5 * 0.25, power[0].GetProperty("value").GetDouble());
            Assert.AreEqual("2024.04.27 14:23:55.123456", power[0].GetProperty("timestamp").GetString());
        }

        // An edit of A's file becomes every node's registry; B then accepts the new meter's readings, and A shows them.
        await File.WriteAllTextAsync(registryA, "10.0.0.1\t0\t110\tV\n10.0.0.2\t0\t0.5\tA\n10.0.0.7\t0\t5\tA\n");
        await WaitForAsync(http, b, "/meters/", r => r.GetProperty("meters").EnumerateArray().Any(m => m.GetProperty("ip").GetString() == "10.0.0.7"), "the edit on A, on B");
        await SendAsync(b, "10.0.0.7\t2024.04.27 14:24:00.000000\t2.5\n");
        JsonElement onA = await WaitForAsync(http, a, "/meters/10.0.0.7/readings", r => r.GetArrayLength() == 1, "the reading sent to B, on A");
        Assert.AreEqual(2.5, onA[0].GetProperty("value").GetDouble());
        Assert.AreEqual(1, (await GetAsync(http, b, "/meters/counters")).GetProperty("accepted").GetInt64(), "B accepted the new meter");
    }

    private static Task<ServerProcess> StartNodeAsync(NatsTestCluster nats, int index, string registry) =>
        ServerProcess.StartAsync(TestServer.NewDataDirectory(),
        [
            $"--Cluster:Nats={nats.Urls}", "--Cluster:Replicas=1", $"--Cluster:NodeName=node{index}",
            "--Cluster:RequestTimeout=00:00:03", "--Cluster:ProbeInterval=00:00:00.25",
            "--Messenger:Enabled=false", "--Jobs:Enabled=false", "--Metrics:Enabled=false", "--Optimization:Enabled=false",
            $"--Meters:RegistryPath={registry}", "--Meters:RegistryReloadDelay=00:00:00.1", "--Meters:PowerInterval=00:00:00.2",
            "--Logging:LogLevel:NATS=Warning", "--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None",
        ]);

    private static async Task SendAsync(ServerProcess node, string lines)
    {
        using var client = new TcpClient();
        await client.ConnectAsync(node.MetersEndPoint);
        NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(lines));
        client.Client.Shutdown(SocketShutdown.Send);

        // The server closes its side once it has read (and published) everything.
        byte[] rest = new byte[16];
        while (await stream.ReadAsync(rest) > 0)
        {
        }
    }

    private static async Task<string[]> MeterIpsAsync(HttpClient http, ServerProcess node) =>
        [.. (await GetAsync(http, node, "/meters/")).GetProperty("meters").EnumerateArray().Select(m => m.GetProperty("ip").GetString()!)];

    private static async Task<JsonElement> GetAsync(HttpClient http, ServerProcess node, string path) =>
        await http.GetFromJsonAsync<JsonElement>($"http://127.0.0.1:{node.MetersHttpEndPoint.Port}{path}");

    /// <summary>Polls <paramref name="path"/> on <paramref name="node"/>: the meters protocol has no replies, so its effects are seen only there.</summary>
    private static async Task<JsonElement> WaitForAsync(HttpClient http, ServerProcess node, string path, Func<JsonElement, bool> done, string what)
    {
        var clock = Stopwatch.StartNew();
        JsonElement last = default;
        while (clock.Elapsed < TimeSpan.FromSeconds(20))
        {
            last = await GetAsync(http, node, path);
            if (done(last))
            {
                return last;
            }

            await Task.Delay(50);
        }

        Assert.Fail($"{what}: {path} still answers {last} after 20 s\n{node.Output}");
        return last;
    }
}
