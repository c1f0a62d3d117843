using Google.Protobuf.WellKnownTypes;
using Rto.Client;
using Rto.Client.Messenger;

namespace Rto.Server.Tests.Messenger.LateHeaders;

/// <summary>
/// The messenger client against a real grpc-python server (Debian's python3-grpcio), which sends a
/// stream's headers only with its first message and polices keep-alive pings.
/// </summary>
[TestClass]
public sealed class GrpcPythonServerTests
{
    [TestMethod]
    public async Task EightQuietStreamsOpenAtOnceAndGetTheMessagesSentLater()
    {
        await using var server = await GrpcPythonMessengerServer.StartAsync();
        await using var client = await MessengerClient.ConnectAsync("127.0.0.1", server.Port, LateHeaderStreamTests.Options());
        using MessageSubscription quiet = await client.SubscribeAsync();
        Task<List<ChatMessage>> reading = quiet.ReadAsync(1);

        await LateHeaderStreamTests.QuietAsync(reading);
        await LateHeaderStreamTests.AssertEightReadersGetEveryMessageAsync(server.Port);

        Assert.AreEqual("message 0", (await reading)[0].Text, "the quiet stream got the first message sent after it opened");
    }

    [TestMethod]
    public async Task PingsNoMoreOftenThanTheServerAllowsKeepAQuietStreamOpen()
    {
        // The server's minimum is 5 min by default (MessengerClientOptions.KeepAlivePingDelay's
        // default); 1 s here, with the client pinging after 1 s of silence.
        await using var server = await GrpcPythonMessengerServer.StartAsync(minPingIntervalMs: 1000);
        await using var client = await MessengerClient.ConnectAsync("127.0.0.1", server.Port, LateHeaderStreamTests.Options(TimeSpan.FromSeconds(1)));
        using MessageSubscription subscription = await client.SubscribeAsync();
        Task<List<ChatMessage>> reading = subscription.ReadAsync(1);

        // Long enough for more pings than the server tolerates too early (two strikes).
        await LateHeaderStreamTests.QuietAsync(reading);
        await LateHeaderStreamTests.QuietAsync(reading);
        Timestamp sent = await client.SendAsync("alice", "still here");

        CollectionAssert.AreEqual(new[] { new ChatMessage("alice", "still here", sent) }, await reading);
    }

    [TestMethod]
    public async Task PingsMoreOftenThanTheServerAllowsBreakAQuietStream()
    {
        // Why the default delay is 5 min: a C-core server closes a connection that pings more
        // often than its minimum while it sends nothing (here 3 s against pings every 1-2 s).
        await using var server = await GrpcPythonMessengerServer.StartAsync(minPingIntervalMs: 3000);
        await using var client = await MessengerClient.ConnectAsync("127.0.0.1", server.Port, LateHeaderStreamTests.Options(TimeSpan.FromSeconds(1)));
        using MessageSubscription subscription = await client.SubscribeAsync();

        MessengerClientException error = await Assert.ThrowsAsync<MessengerClientException>(() => subscription.ReadAsync(1));

        Assert.AreEqual(ClientErrorKind.ConnectionLost, error.ErrorKind);
        StringAssert.Contains(error.Message, "Too many pings");
    }
}
