using System.Diagnostics;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Microsoft.Extensions.DependencyInjection;
using Rto.Client;
using Rto.Client.Messenger;
using Rto.Server.Messenger;
using static Rto.Server.Tests.Messenger.MessengerTestKit;

namespace Rto.Server.Tests.Messenger;

/// <summary>The messenger gRPC service through real channels on a loopback port.</summary>
[TestClass]
public sealed class MessengerServiceTests
{
    [TestMethod]
    public async Task SendReturnsTheTimeTheServerAcceptedTheMessage()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using var client = await ConnectClientAsync(server);
        await client.SendAsync("warm", "up"); // connection set-up is not part of the window below

        DateTimeOffset before = DateTimeOffset.UtcNow;
        Timestamp sent = await client.SendAsync("alice", "hey");
        DateTimeOffset after = DateTimeOffset.UtcNow;

        DateTimeOffset at = sent.ToDateTimeOffset();
        Assert.IsTrue(at >= before.AddTicks(-1) && at <= after.AddTicks(1), $"{at:O} not within [{before:O}, {after:O}]");
        StringAssert.Matches(MessengerTime.ToText(sent), new System.Text.RegularExpressions.Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$"));
    }

    [TestMethod]
    public async Task TenSendsGetStrictlyAscendingTimesAsTimesAndAsText()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using var client = await ConnectClientAsync(server);

        List<Timestamp> times = [];
        for (int i = 0; i < 10; i++)
        {
            times.Add(await client.SendAsync("alice", $"message {i}"));
        }

        for (int i = 1; i < times.Count; i++)
        {
            Assert.IsLessThan(times[i], times[i - 1]);
            Assert.IsLessThan(0, string.CompareOrdinal(MessengerTime.ToText(times[i - 1]), MessengerTime.ToText(times[i])));
        }
    }

    [TestMethod]
    public async Task AReaderOpenedBeforeTheSendsGetsExactlyThoseMessagesInOrder()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using var client = await ConnectClientAsync(server);
        using MessageSubscription reader = await client.SubscribeAsync();

        List<ChatMessage> sent = [];
        for (int i = 0; i < 5; i++)
        {
            sent.Add(new ChatMessage("alice", $"message {i}", await client.SendAsync("alice", $"message {i}")));
        }

        CollectionAssert.AreEqual(sent, await reader.ReadAsync(5));
    }

    [TestMethod]
    public async Task AReaderOpenedLaterMissesTheEarlierMessages()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using var client = await ConnectClientAsync(server);
        await client.SendAsync("alice", "before 1");
        await client.SendAsync("alice", "before 2");

        using MessageSubscription reader = await client.SubscribeAsync();
        Timestamp after = await client.SendAsync("bob", "after");

        ChatMessage first = (await reader.ReadAsync(1))[0];
        Assert.AreEqual(new ChatMessage("bob", "after", after), first);
    }

    [TestMethod]
    public async Task TwoReadersBothGetEveryMessageTheirOwnIncluded()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using var alice = await ConnectClientAsync(server);
        await using var bob = await ConnectClientAsync(server);
        using MessageSubscription aliceReader = await alice.SubscribeAsync();
        using MessageSubscription bobReader = await bob.SubscribeAsync();

        List<ChatMessage> sent = [];
        for (int i = 0; i < 3; i++)
        {
            sent.Add(new ChatMessage("alice", $"a{i}", await alice.SendAsync("alice", $"a{i}")));
            sent.Add(new ChatMessage("bob", $"b{i}", await bob.SendAsync("bob", $"b{i}")));
        }

        CollectionAssert.AreEqual(sent, await aliceReader.ReadAsync(6));
        CollectionAssert.AreEqual(sent, await bobReader.ReadAsync(6));
    }

    [TestMethod]
    public async Task ASlowReaderDelaysNeitherSendersNorAFastReaderAndIsDisconnected()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Messenger:StreamBufferCapacity=16", "--Messenger:SlowReader=Disconnect");
        ChatRoom room = server.Services.GetRequiredService<ChatRoom>();

        // Separate clients, as separate processes would be: no shared HTTP/2 connection window.
        await using var slow = await ConnectClientAsync(server);
        await using var fast = await ConnectClientAsync(server);
        await using var sender = await ConnectClientAsync(server);
        using MessageSubscription slowReader = await slow.SubscribeAsync();
        using MessageSubscription fastReader = await fast.SubscribeAsync();

        // 1.2 MB in all: far more than the slow stream may lag plus its HTTP/2 flow-control
        // window. The fast reader takes each message before the next is sent (so it never lags
        // itself), and every send completes while the slow reader reads nothing at all.
        const int Count = 300;
        string text = new('x', 4096);
        await using IAsyncEnumerator<ChatMessage> fastRead = fastReader.ReadAllAsync().GetAsyncEnumerator();
        List<Timestamp> sent = [];
        List<Timestamp> fastGot = [];
        for (int i = 0; i < Count; i++)
        {
            sent.Add(await sender.SendAsync("sender", text).WaitAsync(WaitLimit));
            Assert.IsTrue(await fastRead.MoveNextAsync().AsTask().WaitAsync(WaitLimit));
            fastGot.Add(fastRead.Current.SendTime);
        }

        CollectionAssert.AreEqual(sent, fastGot);

        // The slow reader gets what was in flight, in order, then a clear error.
        List<Timestamp> slowGot = [];
        MessengerClientException error = await Assert.ThrowsExactlyAsync<MessengerClientException>(async () =>
        {
            using var timeout = new CancellationTokenSource(WaitLimit);
            await foreach (ChatMessage message in slowReader.ReadAllAsync(timeout.Token))
            {
                slowGot.Add(message.SendTime);
            }
        });
        Assert.AreEqual(ClientErrorKind.FellBehind, error.ErrorKind);
        StringAssert.Contains(error.Message, "fell more than 16 messages behind");
        Assert.IsLessThan(Count, slowGot.Count);
        CollectionAssert.AreEqual(sent.Take(slowGot.Count).ToList(), slowGot);
        Assert.AreEqual(1, room.SubscriptionCount, "the slow stream is gone, the fast one still open");
    }

    [TestMethod]
    public async Task UnderDropOldestASlowReaderKeepsTheNewestMessagesInOrder()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Messenger:StreamBufferCapacity=16", "--Messenger:SlowReader=DropOldest");
        await using var slow = await ConnectClientAsync(server);
        await using var sender = await ConnectClientAsync(server);
        using MessageSubscription slowReader = await slow.SubscribeAsync();

        const int Count = 500;
        string text = new('y', 4096);
        List<Timestamp> sent = [];
        for (int i = 0; i < Count; i++)
        {
            sent.Add(await sender.SendAsync("sender", text).WaitAsync(WaitLimit));
        }

        // Now read: a subsequence of what was sent, in order, ending with the last message.
        List<Timestamp> got = [];
        using var timeout = new CancellationTokenSource(WaitLimit);
        await foreach (ChatMessage message in slowReader.ReadAllAsync(timeout.Token))
        {
            got.Add(message.SendTime);
            if (message.SendTime == sent[^1])
            {
                break;
            }
        }

        Assert.IsLessThan(Count, got.Count, "some messages were dropped");
        int cursor = 0;
        foreach (Timestamp time in got)
        {
            cursor = sent.IndexOf(time, cursor);
            Assert.IsGreaterThanOrEqualTo(0, cursor, "every message received was sent, in order");
        }
    }

    [TestMethod]
    public async Task FiftyConcurrentSendersReachEveryReaderInOneIdenticalOrder()
    {
        // A buffer large enough that no reader is cut off: this test is about ordering.
        await using TestServer server = await TestServer.StartAsync(null, "--Messenger:StreamBufferCapacity=8192");
        const int Senders = 50;
        const int PerSender = 100;
        const int Total = Senders * PerSender;

        List<MessengerClient> readerClients = [.. await Task.WhenAll(Enumerable.Range(0, 3).Select(_ => ConnectClientAsync(server)))];
        var subscriptions = new List<MessageSubscription>();
        try
        {
            foreach (MessengerClient client in readerClients)
            {
                subscriptions.Add(await client.SubscribeAsync());
            }

            Task<List<ChatMessage>>[] reads = [.. subscriptions.Select(s => s.ReadAsync(Total))];
            using var senderChannel = GrpcChannel.ForAddress($"http://{server.MessengerAddress}");
            await Task.WhenAll(Enumerable.Range(0, Senders).Select(async s =>
            {
                using var client = new MessengerClient(senderChannel, FastOptions);
                for (int i = 0; i < PerSender; i++)
                {
                    await client.SendAsync($"sender{s}", $"{i}");
                }
            })).WaitAsync(WaitLimit);

            List<ChatMessage>[] received = await Task.WhenAll(reads);
            CollectionAssert.AreEqual(received[0], received[1]);
            CollectionAssert.AreEqual(received[0], received[2]);

            List<ChatMessage> order = received[0];
            Assert.AreEqual(Total, order.Select(m => (m.Author, m.Text)).Distinct().Count());
            for (int i = 1; i < order.Count; i++)
            {
                Assert.IsLessThan(order[i].SendTime, order[i - 1].SendTime);
            }

            // Each sender's own messages keep the order it sent them in.
            foreach (IGrouping<string, ChatMessage> bySender in order.GroupBy(m => m.Author))
            {
                CollectionAssert.AreEqual(Enumerable.Range(0, PerSender).Select(i => $"{i}").ToList(), bySender.Select(m => m.Text).ToList());
            }
        }
        finally
        {
            subscriptions.ForEach(s => s.Dispose());
            readerClients.ForEach(c => c.Dispose());
        }
    }

    [TestMethod]
    public async Task StoppingTheServerEndsOpenStreamsPromptly()
    {
        TestServer server = await TestServer.StartAsync();
        await using var client = await ConnectClientAsync(server);
        using MessageSubscription idle = await client.SubscribeAsync();
        using MessageSubscription stalled = await client.SubscribeAsync(); // never read at all
        Task<List<ChatMessage>> reading = idle.ReadAsync(1);

        var stopping = Stopwatch.StartNew();
        await server.DisposeAsync();
        stopping.Stop();

        MessengerClientException error = await Assert.ThrowsExactlyAsync<MessengerClientException>(() => reading);
        Assert.AreEqual(ClientErrorKind.ConnectionLost, error.ErrorKind);
        Assert.AreEqual(StatusCode.Unavailable, error.StatusCode);
        Assert.IsLessThan(TimeSpan.FromSeconds(3), stopping.Elapsed, "open streams must not hold up shutdown");
    }

    [TestMethod]
    public async Task ReflectionListsTheMessengerService()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var channel = GrpcChannel.ForAddress($"http://{server.MessengerAddress}");
        var reflection = new ServerReflection.ServerReflectionClient(channel);

        using AsyncDuplexStreamingCall<ServerReflectionRequest, ServerReflectionResponse> call = reflection.ServerReflectionInfo();
        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.IsTrue(await call.ResponseStream.MoveNext(CancellationToken.None));

        List<string> services = [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)];
        CollectionAssert.Contains(services, "mes_grpc.MessengerServer");
    }

    [TestMethod]
    public async Task AMessageOverTheSizeLimitIsRejected()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Messenger:MaxMessageSize=1024");
        await using var client = await ConnectClientAsync(server);

        MessengerClientException error = await Assert.ThrowsExactlyAsync<MessengerClientException>(() => client.SendAsync("alice", new string('z', 2048)));
        Assert.AreEqual(ClientErrorKind.Rejected, error.ErrorKind);
        await client.SendAsync("alice", "small enough");
    }

    [TestMethod]
    public async Task ConnectingToAServerThatIsNotThereFailsFast()
    {
        int port;
        await using (TestServer gone = await TestServer.StartAsync())
        {
            port = gone.MessengerEndPoint.Port;
        }

        var elapsed = Stopwatch.StartNew();
        MessengerClientException error = await Assert.ThrowsExactlyAsync<MessengerClientException>(() => MessengerClient.ConnectAsync("127.0.0.1", port, FastOptions));
        Assert.AreEqual(ClientErrorKind.ConnectFailed, error.ErrorKind);
        StringAssert.Contains(error.Message, $"127.0.0.1:{port}");
        Assert.IsLessThan(FastOptions.ConnectTimeout, elapsed.Elapsed, "a refused connection is reported as such, not after the connect timeout");
    }

    [TestMethod]
    public async Task AClientOverItsOwnChannelStartsWithoutAServerAndFailsItsCallsAsUnavailable()
    {
        int port;
        await using (TestServer gone = await TestServer.StartAsync())
        {
            port = gone.MessengerEndPoint.Port;
        }

        using var channel = GrpcChannel.ForAddress(GrpcAddress.Create("127.0.0.1", port));
        using var client = new MessengerClient(channel, FastOptions);
        var elapsed = Stopwatch.StartNew();
        MessengerClientException error = await Assert.ThrowsExactlyAsync<MessengerClientException>(() => client.SendAsync("alice", "anyone?"));
        Assert.AreEqual(ClientErrorKind.ConnectionLost, error.ErrorKind);
        Assert.AreEqual(StatusCode.Unavailable, error.StatusCode);
        Assert.IsLessThan(TimeSpan.FromSeconds(2), elapsed.Elapsed);
        await Assert.ThrowsExactlyAsync<MessengerClientException>(() => client.SubscribeAsync());
    }

    [TestMethod]
    public void TheSeedPortVariableSitsBetweenAppSettingsAndExplicitSettings()
    {
        string? saved = Environment.GetEnvironmentVariable(MessengerOptions.PortEnvironmentVariable);
        try
        {
            Environment.SetEnvironmentVariable(MessengerOptions.PortEnvironmentVariable, "52111");
            Assert.AreEqual(52111, PortOf([]));
            Assert.AreEqual(52112, PortOf(["--Messenger:Port=52112"]));

            Environment.SetEnvironmentVariable(MessengerOptions.PortEnvironmentVariable, null);
            Assert.AreEqual(51075, PortOf([]));
        }
        finally
        {
            Environment.SetEnvironmentVariable(MessengerOptions.PortEnvironmentVariable, saved);
        }

        static int PortOf(string[] args)
        {
            using Microsoft.AspNetCore.Builder.WebApplication app = Hosting.RtoServer.Build(["--Metrics:Enabled=false", .. args]);
            return app.Services.GetRequiredService<Microsoft.Extensions.Options.IOptions<MessengerOptions>>().Value.Port;
        }
    }
}
