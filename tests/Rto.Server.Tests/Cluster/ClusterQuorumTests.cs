using Grpc.Core;
using Grpc.Net.Client;
using Rto.Client;
using Rto.Client.Messenger;
using Rto.Protocols.Messenger;
using Rto.Server.Tests.Messenger;

namespace Rto.Server.Tests.Cluster;

/// <summary>
/// NATS quorum loss: with 2 of 3 nats-servers dead the node refuses sends with UNAVAILABLE and a
/// reason, never acknowledging a message it could lose, and serves again once a quorum is back.
/// </summary>
[TestClass]
[DoNotParallelize]
public sealed class ClusterQuorumTests
{
    [TestMethod]
    public async Task WithoutQuorumSendsAreRefusedAndNoAcknowledgedMessageIsLost()
    {
        await using NatsTestCluster nats = await NatsTestCluster.StartAsync(3);
        await using ClusterNodes nodes = await ClusterNodes.StartAsync(nats, 1);
        using GrpcChannel channel = GrpcChannel.ForAddress($"http://{nodes[0].MessengerAddress}");
        var messenger = new MessengerServer.MessengerServerClient(channel);
        using var reader = await MessengerClient.ConnectAsync(GrpcAddress.Parse(nodes[0].MessengerAddress), MessengerTestKit.FastOptions);
        using MessageSubscription stream = await reader.SubscribeAsync();

        var acknowledged = new List<string>();
        for (int i = 0; i < 5; i++)
        {
            await SendAsync(messenger, $"before {i}");
            acknowledged.Add($"before {i}");
        }

        await nats.KillAsync(1);
        await nats.KillAsync(2);

        // Every send now fails: at first with DEADLINE_EXCEEDED, because JetStream does not confirm
        // it in time (it may or may not be stored later), then at once with UNAVAILABLE, because
        // the node knows it has no quorum (it was not sent at all).
        var refused = new List<string>();
        var unconfirmed = new List<string>();
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            for (int i = 0; refused.Count == 0; i++)
            {
                string text = $"during {i}";
                RpcException failure = await Assert.ThrowsExactlyAsync<RpcException>(() => SendAsync(messenger, text), "a send without quorum was acknowledged");
                if (failure.StatusCode == StatusCode.Unavailable)
                {
                    StringAssert.Contains(failure.Status.Detail, "the message was not sent");
                    refused.Add(text);
                }
                else
                {
                    Assert.AreEqual(StatusCode.DeadlineExceeded, failure.StatusCode, failure.Status.Detail);
                    StringAssert.Contains(failure.Status.Detail, "may or may not have been stored");
                    unconfirmed.Add(text);
                }

                limit.Token.ThrowIfCancellationRequested();
            }
        }

        // The node's probe finds out why, and says so in its health entry and in every refusal.
        await ClusterNodes.WaitForClusterHealthAsync(nodes[0], "Unhealthy", TimeSpan.FromSeconds(10), "NATS JetStream has no quorum");
        RpcException refusal = await Assert.ThrowsExactlyAsync<RpcException>(() => SendAsync(messenger, "refused"));
        Assert.AreEqual(StatusCode.Unavailable, refusal.StatusCode);
        StringAssert.StartsWith(refusal.Status.Detail, "Cluster unavailable on this node: NATS JetStream has no quorum");
        StringAssert.Contains(refusal.Status.Detail, "the message was not sent. Retry later or on another node.");
        refused.Add("refused");
        RpcException openFailure = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
        {
            using AsyncServerStreamingCall<ReadMessagesResponse> call = messenger.ReadMessages(new ReadMessagesRequest());
            await call.ResponseStream.MoveNext(CancellationToken.None);
        });
        Assert.AreEqual(StatusCode.Unavailable, openFailure.StatusCode, "a new stream is refused while it would receive nothing");

        // One server back: 2 of 3 is a quorum again, and the node serves once its probe sees it.
        nats.Restart(1);
        await ClusterNodes.WaitForClusterHealthAsync(nodes[0], "Healthy", TimeSpan.FromSeconds(60));
        // Until the node's own reader of the chat is back, sends are still refused, and say so.
        using (var limit = new CancellationTokenSource(TimeSpan.FromSeconds(30)))
        {
            for (int i = 0; ; i++)
            {
                string text = i == 0 ? "after" : $"after {i}";
                try
                {
                    await SendAsync(messenger, text);
                    acknowledged.Add(text);
                    break;
                }
                catch (RpcException ex) when (ex.StatusCode == StatusCode.Unavailable && ex.Status.Detail.Contains("was not sent", StringComparison.Ordinal))
                {
                    refused.Add(text);
                    await Task.Delay(100, limit.Token);
                }
            }
        }

        // The stream opened before the loss still runs: it has every acknowledged message in send
        // order, none of the refused ones, and perhaps some unconfirmed ones (in their place).
        var received = new List<string>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        await foreach (ChatMessage message in stream.ReadAllAsync(timeout.Token))
        {
            received.Add(message.Text);
            if (message.Text == acknowledged[^1])
            {
                break;
            }
        }

        CollectionAssert.AreEqual(acknowledged, received.Where(t => !unconfirmed.Contains(t)).ToList(), $"received: {string.Join(", ", received)}");
        Assert.IsFalse(received.Any(refused.Contains), "a refused message was delivered");
    }

    private static async Task SendAsync(MessengerServer.MessengerServerClient messenger, string text) =>
        await messenger.SendMessageAsync(new SendMessageRequest { Author = "quorum", Text = text }, deadline: DateTime.UtcNow.AddSeconds(15));
}
