using System.Diagnostics;
using Rto.Client;
using Google.Protobuf.WellKnownTypes;
using Rto.Client.Messenger;

namespace Rto.Server.Tests.Messenger.LateHeaders;

/// <summary>
/// The messenger client against servers that send a stream's response headers only with its first
/// message, as grpc-python does: a quiet stream is open, not late; a dead one is found by pings.
/// </summary>
[TestClass]
public sealed class LateHeaderStreamTests
{
    private static readonly TimeSpan OpenTimeout = TimeSpan.FromMilliseconds(300);

    /// <summary>Long enough for several open timeouts and, with 1 s keep-alive pings, several pings.</summary>
    private static readonly TimeSpan QuietPeriod = TimeSpan.FromSeconds(3);

    internal static MessengerClientOptions Options(TimeSpan? keepAlivePingDelay = null) => new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(5),
        OpenTimeout = OpenTimeout,
        KeepAlivePingDelay = keepAlivePingDelay ?? new MessengerClientOptions().KeepAlivePingDelay,
        KeepAlivePingTimeout = TimeSpan.FromSeconds(2),
    };

    [TestMethod]
    public async Task AStreamWhoseHeadersComeWithTheFirstMessageOpensAndStaysOpenWhileTheChatIsQuiet()
    {
        await using var server = await LateHeaderMessengerServer.StartAsync();
        // Pings every second of silence: the Rto server's own kind of host answers them at any rate.
        await using var client = await MessengerClient.ConnectAsync("127.0.0.1", server.Port, Options(TimeSpan.FromSeconds(1)));

        using MessageSubscription subscription = await client.SubscribeAsync();
        await server.Room.WaitForReadersAsync(1);
        Task<List<ChatMessage>> reading = subscription.ReadAsync(1);

        await QuietAsync(reading);
        Timestamp sent = await client.SendAsync("alice", "after a quiet while");

        CollectionAssert.AreEqual(new[] { new ChatMessage("alice", "after a quiet while", sent) }, await reading);
        Assert.AreEqual(1, server.Room.Readers, "the one stream stayed open; none was reopened");
    }

    [TestMethod]
    public async Task EightReadersOpenAtOnceAndEachGetsEveryMessage()
    {
        await using var server = await LateHeaderMessengerServer.StartAsync();

        // All eight registered once open: counted before the helper closes them (closing is
        // asynchronous on the server, so a count afterwards would race it).
        await AssertEightReadersGetEveryMessageAsync(server.Port, () => server.Room.WaitForReadersAsync(8));
    }

    [TestMethod]
    public async Task ADeadConnectionUnderAQuietStreamEndsItWithConnectionLost()
    {
        await using var server = await LateHeaderMessengerServer.StartAsync();
        await using var proxy = FreezingProxy.Start(server.Port);
        await using var client = await MessengerClient.ConnectAsync("127.0.0.1", proxy.Port, Options(TimeSpan.FromSeconds(1)));
        using MessageSubscription subscription = await client.SubscribeAsync();
        await server.Room.WaitForReadersAsync(1);

        var frozenFor = Stopwatch.StartNew();
        proxy.Freeze();
        MessengerClientException error = await Assert.ThrowsAsync<MessengerClientException>(() => subscription.ReadAsync(1));

        Assert.AreEqual(ClientErrorKind.ConnectionLost, error.ErrorKind, error.Message);
        // One ping after 1 s of silence, unanswered for 2 s, plus the handler's 1 s heartbeat and
        // slack for a loaded machine: well before anything but the pings could have ended it.
        Assert.IsLessThan(TimeSpan.FromSeconds(1 + 2 + 1 + 3), frozenFor.Elapsed, "found dead within the ping delay and timeout");
    }

    /// <summary>
    /// Opens eight readers at once, each on its own connection, and checks every one gets three
    /// messages in order. <paramref name="whenOpen"/> runs once all are open, before the first send.
    /// </summary>
    internal static async Task AssertEightReadersGetEveryMessageAsync(int port, Func<Task>? whenOpen = null)
    {
        MessengerClient[] clients = await Task.WhenAll(Enumerable.Range(0, 8).Select(_ => MessengerClient.ConnectAsync("127.0.0.1", port, Options())));
        try
        {
            MessageSubscription[] subscriptions = await Task.WhenAll(clients.Select(c => c.SubscribeAsync()));
            if (whenOpen is not null)
            {
                await whenOpen();
            }

            List<ChatMessage> sent = [];
            for (int i = 0; i < 3; i++)
            {
                sent.Add(new ChatMessage("alice", $"message {i}", await clients[0].SendAsync("alice", $"message {i}")));
            }

            foreach (MessageSubscription subscription in subscriptions)
            {
                CollectionAssert.AreEqual(sent, await subscription.ReadAsync(3));
                subscription.Dispose();
            }
        }
        finally
        {
            foreach (MessengerClient client in clients)
            {
                await client.DisposeAsync();
            }
        }
    }

    /// <summary>Lets the chat stay quiet for <see cref="QuietPeriod"/>, failing if <paramref name="reading"/> ends meanwhile.</summary>
    internal static async Task QuietAsync(Task reading, string ended = "the stream delivered a message nobody sent")
    {
        if (await Task.WhenAny(reading, Task.Delay(QuietPeriod)) == reading)
        {
            await reading; // throws what broke the stream
            Assert.Fail(ended);
        }
    }
}
