using System.Collections.Concurrent;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Rto.Client;
using Rto.Client.Messenger;
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
        RequestTimeout = TimeSpan.FromSeconds(10),
        OpenTimeout = TimeSpan.FromSeconds(10),
    };

    [TestMethod]
    public async Task ThreeSendersOnThreeNodesEveryReaderGetsEveryMessageInOneOrder()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 3);
        MessengerClient[] clients = await Task.WhenAll(Enumerable.Range(0, 3).Select(i => MessengerClient.ConnectAsync(GrpcAddress.Parse(nodes[i].MessengerAddress), Options)));
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
        using var readerClients = new DisposableList<MessengerClient>(await Task.WhenAll(Enumerable.Range(0, 2).Select(i => MessengerClient.ConnectAsync(GrpcAddress.Parse(nodes[i].MessengerAddress), Options))));
        using var senders = new DisposableList<ChatSender>([.. Enumerable.Range(0, 3).Select(i => new ChatSender(nodes[i].MessengerAddress))]);
        using var readers = new DisposableList<MessageSubscription>([.. await Task.WhenAll(readerClients.Items.Select(c => c.SubscribeAsync()))]);
        Task<List<ChatMessage>>[] reading = [.. readers.Items.Select(ReadUntilMarkerAsync)];
        var run = new SendRun(senders.Items);

        // Kill node 2 once every sender has had messages acknowledged, mid-send: its sender stops
        // at its first failure; the others must not fail at all.
        await run.WaitForAsync(acks => acks.All(a => a >= 30));
        run.Dying(2);
        await nodes[2].KillAsync();
        int[] atKill = run.Acks;
        await run.WaitForAsync(acks => acks[0] >= atKill[0] + 30 && acks[1] >= atKill[1] + 30);
        await run.StopAsync();
        Assert.IsEmpty(run.FailuresOf(0).Concat(run.FailuresOf(1)).ToList(), "the senders on the surviving nodes");
        Assert.IsGreaterThanOrEqualTo(30, run.Acks[2], "node 2 had acknowledged messages before it died");

        List<ChatMessage>[] received = await ReadEverythingAsync(senders.Items[0], reading);
        CollectionAssert.AreEqual(received[0], received[1], "the readers on node 0 and node 1 saw one order");
        AssertEveryAcknowledgedMessageOnce(run, received[0]);
    }

    [TestMethod]
    public async Task LosingOneNatsServerOfThreeLosesNoAcknowledgedMessageAndSendsGoOn()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 2);
        using var readerClients = new DisposableList<MessengerClient>(await Task.WhenAll(Enumerable.Range(0, 2).Select(i => MessengerClient.ConnectAsync(GrpcAddress.Parse(nodes[i].MessengerAddress), Options))));
        using var senders = new DisposableList<ChatSender>([.. Enumerable.Range(0, 2).Select(i => new ChatSender(nodes[i].MessengerAddress))]);
        using var readers = new DisposableList<MessageSubscription>([.. await Task.WhenAll(readerClients.Items.Select(c => c.SubscribeAsync()))]);
        Task<List<ChatMessage>>[] reading = [.. readers.Items.Select(ReadUntilMarkerAsync)];
        var run = new SendRun(senders.Items);

        // While JetStream elects new leaders for what the dead server led, sends may fail, but
        // only saying so (refused: not stored; unconfirmed: maybe stored); then they go on.
        await run.WaitForAsync(acks => acks.All(a => a >= 30));
        await nats.KillAsync(0);
        int[] atKill = run.Acks;
        await run.WaitForAsync(acks => acks[0] >= atKill[0] + 30 && acks[1] >= atKill[1] + 30);
        await run.StopAsync();

        List<ChatMessage>[] received = await ReadEverythingAsync(senders.Items[0], reading);
        CollectionAssert.AreEqual(received[0], received[1], "both nodes' readers saw one order");
        AssertEveryAcknowledgedMessageOnce(run, received[0]);
    }

    [TestMethod]
    public async Task TheHttpClientSampleGivenTwoNodesFailsOverWhenItsNodeDies()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 2);
        await using HttpClientHost client = await HttpClientHost.StartAsync($"{nodes[0].MessengerAddress}, {nodes[1].MessengerAddress}");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await client.Reader.WaitUntilAsync(r => r.IsOpen, timeout.Token);
        using var other = await MessengerClient.ConnectAsync(GrpcAddress.Parse(nodes[1].MessengerAddress), Options);

        // Messages sent through either node reach the client's stream (open on node 0).
        string first = await client.SendAsync("alice", "via node 0");
        Timestamp second = await SendOnceReadingAsync(other, "bob", "via node 1", timeout.Token);
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

    /// <summary>
    /// Sends through <paramref name="client"/>, again while its node answers UNAVAILABLE because its
    /// reader of the chat stream is still starting (the refusal says the message was not sent, so a
    /// retry cannot send it twice).
    /// </summary>
    private static async Task<Timestamp> SendOnceReadingAsync(MessengerClient client, string author, string text, CancellationToken cancellationToken)
    {
        while (true)
        {
            try
            {
                return await client.SendAsync(author, text, cancellationToken);
            }
            catch (MessengerClientException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Message.Contains("was not sent", StringComparison.Ordinal))
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), cancellationToken);
            }
        }
    }

    /// <summary>Sends a marker through <paramref name="sender"/> and waits for every reader to reach it: everything stored before it is in front of it.</summary>
    private static async Task<List<ChatMessage>[]> ReadEverythingAsync(ChatSender sender, Task<List<ChatMessage>>[] reading)
    {
        (SendOutcome outcome, _, string? detail) = await sender.SendAsync("marker", "end");
        Assert.AreEqual(SendOutcome.Acknowledged, outcome, detail);
        return await Task.WhenAll(reading);
    }

    private static void AssertEveryAcknowledgedMessageOnce(SendRun run, List<ChatMessage> received)
    {
        HashSet<string> texts = [.. received.Select(m => m.Text)];
        string[] missing = [.. run.Acknowledged.Where(t => !texts.Contains(t))];
        Assert.IsEmpty(missing, $"acknowledged but never delivered: {string.Join(", ", missing.Take(10))}");
        Assert.AreEqual(texts.Count, received.Count, "no message delivered twice");
        string[] refused = [.. run.Refused.Where(texts.Contains)];
        Assert.IsEmpty(refused, $"refused (UNAVAILABLE) but delivered: {string.Join(", ", refused.Take(10))}");
    }

    /// <summary>Reads a stream (from the start of a run, so that it never falls behind) until the marker.</summary>
    private static async Task<List<ChatMessage>> ReadUntilMarkerAsync(MessageSubscription reader)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(120));
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

    /// <summary>One sender per node, each sending one message after the other until stopped, with every outcome recorded.</summary>
    private sealed class SendRun
    {
        private readonly ConcurrentQueue<string> _acknowledged = new();
        private readonly ConcurrentQueue<string> _refused = new();
        private readonly ConcurrentQueue<(int Node, string Failure)> _failures = new();
        private readonly int[] _acks;
        private readonly CancellationTokenSource _stop = new();
        private readonly Task[] _senders;
        private int _dying = -1;

        public SendRun(IReadOnlyList<ChatSender> senders)
        {
            _acks = new int[senders.Count];
            _senders = [.. senders.Select((sender, node) => Task.Run(() => SendLoopAsync(sender, node)))];
        }

        public int[] Acks => [.. Enumerable.Range(0, _acks.Length).Select(i => Volatile.Read(ref _acks[i]))];

        public IEnumerable<string> Acknowledged => _acknowledged;

        public IEnumerable<string> Refused => _refused;

        public IEnumerable<string> FailuresOf(int node) => _failures.Where(f => f.Node == node).Select(f => f.Failure);

        /// <summary>The node is about to be killed: its sender stops at its first failure.</summary>
        public void Dying(int node) => Volatile.Write(ref _dying, node);

        /// <summary>Waits for the senders' progress (they signal nothing else); bounded.</summary>
        public async Task WaitForAsync(Func<int[], bool> condition)
        {
            using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(60));
            while (!condition(Acks))
            {
                await Task.Delay(20, timeout.Token);
            }
        }

        public async Task StopAsync()
        {
            await _stop.CancelAsync();
            await Task.WhenAll(_senders);
        }

        private async Task SendLoopAsync(ChatSender sender, int node)
        {
            for (int i = 0; !_stop.IsCancellationRequested; i++)
            {
                string text = $"node{node} message {i}";
                (SendOutcome outcome, _, string? detail) = await SendOrFailAsync(sender, node, text);
                switch (outcome)
                {
                    case SendOutcome.Acknowledged:
                        _acknowledged.Enqueue(text);
                        Interlocked.Increment(ref _acks[node]);
                        continue;
                    case SendOutcome.Refused:
                        _refused.Enqueue(text);
                        break;
                }

                _failures.Enqueue((node, $"{outcome}: {detail}"));
                if (Volatile.Read(ref _dying) == node)
                {
                    return;
                }
            }
        }

        private async Task<(SendOutcome, string?, string?)> SendOrFailAsync(ChatSender sender, int node, string text)
        {
            try
            {
                return await sender.SendAsync($"sender{node}", text);
            }
            catch (Grpc.Core.RpcException ex) when (Volatile.Read(ref _dying) == node)
            {
                // The node died under the call (a reset stream, not an answer): its outcome is unknown.
                return (SendOutcome.Unknown, null, ex.Status.ToString());
            }
        }
    }

    /// <summary>Disposes a set of clients at the end of a test.</summary>
    private sealed class DisposableList<T>(T[] items) : IDisposable
        where T : IDisposable
    {
        public T[] Items => items;

        public void Dispose() => Array.ForEach(items, item => item.Dispose());
    }
}
