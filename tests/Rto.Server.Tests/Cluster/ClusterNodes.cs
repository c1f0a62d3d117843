using System.Diagnostics;
using System.Net.Http.Json;
using System.Text.Json;

namespace Rto.Server.Tests.Cluster;

/// <summary>Rto servers as separate processes (so one can be killed with SIGKILL), all joined to one NATS cluster.</summary>
internal sealed class ClusterNodes : IAsyncDisposable
{
    private readonly ServerProcess[] _nodes;

    private ClusterNodes(ServerProcess[] nodes) => _nodes = nodes;

    public ServerProcess this[int index] => _nodes[index];

    public int Count => _nodes.Length;

    /// <summary>
    /// Starts <paramref name="count"/> nodes at once, each with only the messenger and health
    /// endpoints (the capabilities without cluster behaviour yet stay off, which keeps start-up short).
    /// </summary>
    public static async Task<ClusterNodes> StartAsync(NatsTestCluster nats, int count, params string[] settings)
    {
        Task<ServerProcess>[] starting = [.. Enumerable.Range(0, count).Select(i => ServerProcess.StartAsync(TestServer.NewDataDirectory(),
        [
            $"--Cluster:Nats={nats.Urls}", $"--Cluster:Replicas={Math.Min(3, nats.Count)}", $"--Cluster:NodeName=node{i}",
            "--Cluster:RequestTimeout=00:00:03", "--Cluster:ProbeInterval=00:00:00.25",
            "--Metrics:Enabled=false", "--Jobs:Enabled=false", "--Meters:Enabled=false", "--Optimization:Enabled=false",

            // A node whose reader was down catches up in one burst (docs/cluster.md); the test
            // readers on a loaded machine must not fall a whole ring behind it.
            "--Messenger:StreamBufferCapacity=65536",
            "--Logging:LogLevel:NATS=Warning", "--Logging:LogLevel:Microsoft.Extensions.Diagnostics.HealthChecks=None",
            .. settings,
        ]))];
        try
        {
            return new ClusterNodes(await Task.WhenAll(starting));
        }
        catch
        {
            foreach (Task<ServerProcess> node in starting.Where(t => t.IsCompletedSuccessfully))
            {
                await node.Result.DisposeAsync();
            }

            throw;
        }
    }

    /// <summary>The node's <c>cluster</c> health entry: its status and description.</summary>
    public static async Task<(string Status, string Description)> ClusterHealthAsync(ServerProcess node)
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(5) };
        using HttpResponseMessage response = await http.GetAsync($"http://127.0.0.1:{node.HealthEndPoint.Port}/health");
        JsonElement entry = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("checks").GetProperty("cluster");
        return (entry.GetProperty("status").GetString()!, entry.GetProperty("description").GetString()!);
    }

    /// <summary>Polls the <c>cluster</c> health entry until it reports <paramref name="status"/> (the node's own probe runs every 250 ms).</summary>
    public static async Task WaitForClusterHealthAsync(ServerProcess node, string status, TimeSpan limit, string description = "")
    {
        var clock = Stopwatch.StartNew();
        (string Status, string Description) last = default;
        while (clock.Elapsed < limit)
        {
            last = await ClusterHealthAsync(node);
            if (last.Status == status && last.Description.Contains(description, StringComparison.Ordinal))
            {
                return;
            }

            await Task.Delay(100);
        }

        Assert.Fail($"the cluster health entry stayed {last.Status} ({last.Description}) for {limit.TotalSeconds} s, expected {status} ({description})\n{node.Output}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (ServerProcess node in _nodes)
        {
            await node.DisposeAsync();
        }
    }
}
