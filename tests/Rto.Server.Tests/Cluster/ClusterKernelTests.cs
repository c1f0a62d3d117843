using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;

namespace Rto.Server.Tests.Cluster;

/// <summary>The cluster kernel: off by default, settings checked before anything opens, streams and buckets with replicas, publishes stored once.</summary>
[TestClass]
[DoNotParallelize]
public sealed class ClusterKernelTests
{
    [TestMethod]
    public async Task Without_Cluster_Nats_no_NATS_service_exists_and_health_has_no_cluster_entry()
    {
        await using TestServer server = await TestServer.StartAsync();

        Assert.IsNull(server.Services.GetService<ClusterConnection>());
        HealthReport report = await server.Services.GetRequiredService<HealthCheckService>().CheckHealthAsync();
        CollectionAssert.DoesNotContain(report.Entries.Keys.ToList(), ClusterHosting.HealthEntry);
    }

    [TestMethod]
    [DataRow("--Cluster:Nats=http://127.0.0.1:4222", "Cluster:Nats 'http://127.0.0.1:4222' is not a NATS URL")]
    [DataRow("--Cluster:Replicas=0", "Cluster:Replicas must be between 1 and 5")]
    [DataRow("--Cluster:NodeName=a.b", "Cluster:NodeName 'a.b' must be at most 64 letters")]
    [DataRow("--Cluster:Password=secret", "Cluster:Password is set without Cluster:User.")]
    [DataRow("--Cluster:CredsFile=/nonexistent/rto.creds", "Cluster:CredsFile '/nonexistent/rto.creds' does not exist.")]
    [DataRow("--Cluster:TlsCertFile=/etc/hostname", "Cluster:TlsCertFile and Cluster:TlsKeyFile go together.")]
    public void A_bad_cluster_setting_is_named_before_anything_opens(string setting, string message)
    {
        InvalidOperationException error = Assert.ThrowsExactly<InvalidOperationException>(() => RtoServer.Build(["--Cluster:Nats=nats://127.0.0.1:4222", setting]));
        StringAssert.Contains(error.Message, message);
    }

    [TestMethod]
    public async Task An_unreachable_NATS_stops_the_start_with_a_clear_line()
    {
        InvalidOperationException error = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => TestServer.StartAsync(null,
            "--Cluster:Nats=nats://127.0.0.1:1", "--Cluster:StartTimeout=00:00:01", "--Logging:LogLevel:NATS=None"));
        StringAssert.Contains(error.Message, "no NATS server answered at nats://127.0.0.1:1");
    }

    [TestMethod]
    public async Task Three_replicas_on_a_single_nats_server_are_refused_naming_Cluster_Replicas()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(1);
        InvalidOperationException error = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => TestServer.StartAsync(null, $"--Cluster:Nats={nats.Urls}"));
        StringAssert.Contains(error.Message, "Use Cluster:Replicas=1 for a single nats-server");
    }

    [TestMethod]
    public async Task Streams_and_buckets_get_the_replicas_and_a_repeated_publish_is_stored_once()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        var options = new ClusterOptions { Nats = nats.Urls, NodeName = "kernel-test", RequestTimeout = TimeSpan.FromSeconds(5) };
        await using var cluster = new ClusterConnection(options, NullLoggerFactory.Instance);
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        await cluster.ConnectAsync(timeout.Token);

        INatsJSStream stream = await cluster.EnsureStreamAsync(new StreamConfig("RTO_KERNEL_TEST", ["rto.kernel-test.>"]), timeout.Token);
        Assert.AreEqual(3, stream.Info.Config.NumReplicas);
        INatsKVStore bucket = await cluster.EnsureBucketAsync(new NatsKVConfig("rto_kernel_test"), timeout.Token);
        Assert.AreEqual(3, (await bucket.GetStatusAsync(timeout.Token)).Info.Config.NumReplicas);

        await cluster.ProbeAsync(timeout.Token);
        Assert.AreEqual(ClusterState.Available, cluster.Availability.State, cluster.Availability.Reason);

        string id = cluster.NewMessageId();
        StringAssert.StartsWith(id, "kernel-test-");
        PubAckResponse first = await cluster.PublishAsync("rto.kernel-test.a", [1, 2, 3], id, "not sent", timeout.Token);
        PubAckResponse again = await cluster.PublishAsync("rto.kernel-test.a", [1, 2, 3], id, "not sent", timeout.Token);
        Assert.IsTrue(again.Duplicate);
        Assert.AreEqual(first.Seq, again.Seq);
        Assert.AreNotEqual(id, cluster.NewMessageId());
        Assert.AreEqual<ulong>(1, (ulong)(await cluster.JetStream.GetStreamAsync("RTO_KERNEL_TEST", cancellationToken: timeout.Token)).Info.State.Messages);
    }
}
