using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Rto.Client.Messaging;
using Rto.Samples.MessengerHttpClient;
using Rto.Server.Tests.Messenger;

namespace Rto.Server.Tests.Cluster;

/// <summary>
/// The messenger on 3 Rto nodes over a 3-server JetStream cluster (all real processes): one chat,
/// one order, and no acknowledged message lost when a node dies.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ClusterMessengerTests
{
    private static readonly MessengerClientOptions Options = new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        SendTimeout = TimeSpan.FromSeconds(10),
        OpenTimeout = TimeSpan.FromSeconds(10),
    };

    [TestMethod]
    public async Task ThreeSendersOnThreeNodesEveryReaderGetsEveryMessageInOneOrder()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 3);
        MessengerClient[] clients = [.. Enumerable.Range(0, 3).Select(i => new MessengerClient(nodes[i].MessengerAddress, Options))];
        try
        {
            // Two readers per node; each subscription is registered on its node before the sends start.
            MessageSubscription[] readers = [.. await Task.WhenAll(clients.Concat(clients).Select(c => c.SubscribeAsync()))];
            const int perSender = 100;
            var replies = new ConcurrentDictionary<string, string>();

            // Each sender keeps 4 sends in flight on its own node.
            await Task.WhenAll(Enumerable.Range(0, 3).SelectMany(node => Enumerable.Range(0, 4).Select(lane => Task.Run(async () =>
            {
                for (int i = lane; i < perSender; i += 4)
                {
                    string text = $"node{node} message {i}";
                    replies[text] = MessengerTime.ToText(await clients[node].SendAsync($"sender{node}", text));
                }
            }))));

            List<ChatMessage>[] received = [.. await Task.WhenAll(readers.Select(r => r.ReadAsync(3 * perSender)))];
            List<ChatMessage> first = received[0];
            for (int r = 1; r < received.Length; r++)
            {
                CollectionAssert.AreEqual(first, received[r], $"reader {r} (on node {r % 3}) saw another order or other send times than reader 0");
            }

            CollectionAssert.AreEquivalent(replies.Keys.ToList(), first.Select(m => m.Text).ToList(), "every acknowledged message, once");
            for (int i = 1; i < first.Count; i++)
            {
                Assert.IsLessThan(0, string.CompareOrdinal(first[i - 1].SendTimeText, first[i].SendTimeText), $"send times ascend in the one order (#{i})");
            }

            foreach (ChatMessage message in first)
            {
                Assert.AreEqual(replies[message.Text], message.SendTimeText, "the sender's reply carries the send time every reader sees");
            }

            // Each sender's own messages keep the order in which they were acknowledged per lane.
            foreach (IGrouping<string, ChatMessage> sender in first.GroupBy(m => m.Author))
            {
                int[] lane0 = [.. sender.Select(m => int.Parse(m.Text[(m.Text.LastIndexOf(' ') + 1)..], System.Globalization.CultureInfo.InvariantCulture)).Where(i => i % 4 == 0)];
                CollectionAssert.AreEqual(lane0.Order().ToArray(), lane0, $"{sender.Key}: sequential sends appear in sending order");
            }

            Array.ForEach(readers, r => r.Dispose());
        }
        finally
        {
            Array.ForEach(clients, c => c.Dispose());
        }
    }

    [TestMethod]
    public async Task KillingANodeMidRunLosesNoAcknowledgedMessage()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 3);
        MessengerClient[] clients = [.. Enumerable.Range(0, 3).Select(i => new MessengerClient(nodes[i].MessengerAddress, Options))];
        try
        {
            MessageSubscription[] readers = [.. await Task.WhenAll(clients.Take(2).Select(c => c.SubscribeAsync()))];
            var acknowledged = new ConcurrentDictionary<string, bool>();
            int[] acks = new int[3];
            using var stop = new CancellationTokenSource();
            var killed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            var killedNodeFailed = new TaskCompletionSource<MessengerClientException>(TaskCreationOptions.RunContinuationsAsynchronously);

            Task[] senders = [.. Enumerable.Range(0, 3).Select(node => Task.Run(async () =>
            {
                for (int i = 0; !stop.IsCancellationRequested; i++)
                {
                    string text = $"node{node} message {i}";
                    try
                    {
                        await clients[node].SendAsync($"sender{node}", text);
                    }
                    catch (MessengerClientException ex) when (node == 2 && killed.Task.IsCompleted)
                    {
                        killedNodeFailed.TrySetResult(ex);
                        return;
                    }

                    acknowledged[text] = true;
                    Interlocked.Increment(ref acks[node]);
                }
            }))];

            // Kill node 2 once every sender has had messages acknowledged, mid-send.
            await WaitUntilAsync(() => acks.All(a => a >= 30));
            killed.TrySetResult();
            await nodes[2].KillAsync();
            MessengerClientException failure = await killedNodeFailed.Task.WaitAsync(TimeSpan.FromSeconds(30));
            Assert.AreEqual(MessengerClientError.Unavailable, failure.Error, failure.Message);

            // The survivors keep going: 30 more acknowledged sends each, then the senders stop.
            int[] atKill = [.. acks];
            await WaitUntilAsync(() => acks[0] >= atKill[0] + 30 && acks[1] >= atKill[1] + 30);
            await stop.CancelAsync();
            await Task.WhenAll(senders);

            // A last message marks the end: everything stored before it is in front of it on every stream.
            await clients[0].SendAsync("marker", "end");
            List<ChatMessage>[] received = [.. await Task.WhenAll(readers.Select(ReadUntilMarkerAsync))];
            CollectionAssert.AreEqual(received[0], received[1], "the readers on node 0 and node 1 saw one order");
            HashSet<string> texts = [.. received[0].Select(m => m.Text)];
            string[] missing = [.. acknowledged.Keys.Where(t => !texts.Contains(t))];
            Assert.IsEmpty(missing, $"acknowledged but never delivered: {string.Join(", ", missing.Take(10))}");
            Assert.AreEqual(texts.Count, received[0].Count, "no message delivered twice");
            Assert.IsGreaterThanOrEqualTo(30, acks[2], "node 2 had acknowledged messages before it died");

            Array.ForEach(readers, r => r.Dispose());
        }
        finally
        {
            Array.ForEach(clients, c => c.Dispose());
        }
    }

    [TestMethod]
    public async Task TheHttpClientSampleGivenTwoNodesFailsOverWhenItsNodeDies()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 2);
        await using HttpClientHost client = await HttpClientHost.StartAsync($"{nodes[0].MessengerAddress}, {nodes[1].MessengerAddress}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.Reader.WaitUntilAsync(r => r.IsOpen, timeout.Token);
        using var other = new MessengerClient(nodes[1].MessengerAddress, Options);

        // Messages sent through either node reach the client's stream (open on node 0).
        string first = await client.SendAsync("alice", "via node 0");
        Timestamp second = await other.SendAsync("bob", "via node 1");
        CollectionAssert.AreEqual(
            new[] { new BufferedMessage("alice", "via node 0", first), new BufferedMessage("bob", "via node 1", MessengerTime.ToText(second)) },
            await client.FlushAsync());

        // Node 0 dies: the next send goes to node 1, and the stream reopens there.
        await nodes[0].KillAsync();
        string afterKill = await client.SendAsync("alice", "after the kill");
        await client.Reader.WaitUntilAsync(r => r.IsOpen && r.TimesOpened >= 2, timeout.Token);
        string onNode1 = await client.SendAsync("alice", "on node 1");
        List<BufferedMessage> flushed = await client.FlushAsync();
        Assert.AreEqual(new BufferedMessage("alice", "on node 1", onNode1), flushed[^1], string.Join(", ", flushed));
        Assert.IsLessThan(0, string.CompareOrdinal(afterKill, onNode1), "one order of send times across the failover");
    }

    private static async Task<List<ChatMessage>> ReadUntilMarkerAsync(MessageSubscription reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        var messages = new List<ChatMessage>();
        await foreach (ChatMessage message in reader.ReadAllAsync(timeout.Token))
        {
            messages.Add(message);
            if (message.Author == "marker")
            {
                return messages;
            }
        }

        Assert.Fail("the stream ended before the marker");
        return messages;
    }

    /// <summary>Waits for the senders' progress (they signal nothing else); bounded.</summary>
    private static async Task WaitUntilAsync(Func<bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
        while (!condition())
        {
            await Task.Delay(20, timeout.Token);
        }
    }
}
