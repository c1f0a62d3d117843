namespace Rto.Server.Tests.Messenger.LateHeaders;

/// <summary>The HTTP client sample against a server that sends a stream's headers with its first message.</summary>
[TestClass]
public sealed class HttpClientLateHeaderTests
{
    [TestMethod]
    public async Task TheStreamOpensOnceAndAMessageSentAfterAQuietWhileArrives()
    {
        await using var server = await LateHeaderMessengerServer.StartAsync();
        await using var client = await HttpClientHost.StartAsync($"127.0.0.1:{server.Port}", "--MESSENGER_OPEN_TIMEOUT=00:00:00.300");
        Assert.IsTrue(client.Reader.IsOpen, "start-up waited for the stream to open");
        await server.Room.WaitForReadersAsync(1);

        // Before, every open "timed out" after MESSENGER_OPEN_TIMEOUT and the stream was torn
        // down and reopened; a message sent in the gap was lost to this client.
        await LateHeaderStreamTests.QuietAsync(client.Reader.WaitUntilAsync(reader => !reader.IsOpen, CancellationToken.None), "the stream closed");
        string sendTime = await client.SendAsync("alice", "after a quiet while");
        await client.WaitForMessageAsync(sendTime);

        List<Rto.Samples.MessengerHttpClient.BufferedMessage> flushed = await client.FlushAsync();
        Assert.AreEqual("after a quiet while", flushed.Single().Text);
        Assert.AreEqual(1, client.Reader.TimesOpened);
        Assert.AreEqual(1, server.Room.Readers);
    }
}
