using System.Diagnostics;
using System.Net;
using System.Text.Json;
using Rto.Samples.MessengerHttpClient;

namespace Rto.Server.Tests.Messenger;

/// <summary>The HTTP-driven messenger client over real HTTP, against the real server.</summary>
[TestClass]
public sealed class MessengerHttpClientTests
{
    [TestMethod]
    public async Task OneClientSendsOneMessageAndFlushesIt()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using HttpClientHost client = await HttpClientHost.StartAsync(server.MessengerAddress);

        using (HttpResponseMessage ready = await client.Http.GetAsync("/"))
        {
            Assert.IsTrue(ready.IsSuccessStatusCode);
        }

        string sendTime = await client.SendAsync("alice", "hey");
        StringAssert.Matches(sendTime, new System.Text.RegularExpressions.Regex(@"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{9}Z$"));

        // Send-then-flush sees the message: the flush waits for the client's own sends.
        CollectionAssert.AreEqual(new[] { new BufferedMessage("alice", "hey", sendTime) }, await client.FlushAsync());
    }

    [TestMethod]
    public async Task SeveralMessagesComeBackInTheOrderSent()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using HttpClientHost client = await HttpClientHost.StartAsync(server.MessengerAddress);

        List<BufferedMessage> sent = [];
        foreach (string text in (string[])["one", "two", "three", "four", "five", "ünïcødé ✓", ""])
        {
            sent.Add(new BufferedMessage("alice", text, await client.SendAsync("alice", text)));
        }

        CollectionAssert.AreEqual(sent, await client.FlushAsync());
    }

    [TestMethod]
    public async Task TwoClientsSeeFourMessagesIdentically()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using HttpClientHost alice = await HttpClientHost.StartAsync(server.MessengerAddress);
        await using HttpClientHost bob = await HttpClientHost.StartAsync(server.MessengerAddress);

        List<BufferedMessage> sent =
        [
            new("alice", "hi bob", await alice.SendAsync("alice", "hi bob")),
            new("bob", "hi alice", await bob.SendAsync("bob", "hi alice")),
            new("alice", "how are you?", await alice.SendAsync("alice", "how are you?")),
            new("bob", "fine", await bob.SendAsync("bob", "fine")),
        ];
        await alice.WaitForMessageAsync(sent[^1].SendTime);
        await bob.WaitForMessageAsync(sent[^1].SendTime);

        CollectionAssert.AreEqual(sent, await alice.FlushAsync());
        CollectionAssert.AreEqual(sent, await bob.FlushAsync());
    }

    [TestMethod]
    public async Task AFlushEmptiesTheBuffer()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using HttpClientHost client = await HttpClientHost.StartAsync(server.MessengerAddress);

        await client.SendAsync("alice", "once");
        Assert.HasCount(1, await client.FlushAsync());
        Assert.IsEmpty(await client.FlushAsync());

        string again = await client.SendAsync("alice", "twice");
        CollectionAssert.AreEqual(new[] { new BufferedMessage("alice", "twice", again) }, await client.FlushAsync());
    }

    [TestMethod]
    public async Task BadJsonAndMissingFieldsGet400WithAMessage()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using HttpClientHost client = await HttpClientHost.StartAsync(server.MessengerAddress);

        string[] bodies =
        [
            "", "not json", """{"author": "alice", "text": "unterminated""", "[1, 2]", "\"text\"",
            """{"author": "alice"}""", """{"text": "hey"}""", """{"author": null, "text": "hey"}""", """{"author": "alice", "text": 5}""",
        ];
        foreach (string body in bodies)
        {
            (HttpStatusCode status, JsonElement reply) = await client.PostAsync("/sendMessage", body);
            Assert.AreEqual(HttpStatusCode.BadRequest, status, body);
            Assert.IsFalse(string.IsNullOrWhiteSpace(reply.GetProperty("error").GetString()), body);
        }

        Assert.IsEmpty(await client.FlushAsync(), "nothing was sent");
    }

    [TestMethod]
    public async Task WithTheServerDownASendFailsClearlyAndTheStreamRecoversWhenItIsBack()
    {
        TestServer server = await TestServer.StartAsync();
        int port = server.MessengerEndPoint.Port;
        await using HttpClientHost client = await HttpClientHost.StartAsync(server.MessengerAddress);
        using var timeout = new CancellationTokenSource(MessengerTestKit.WaitLimit);
        await client.Reader.WaitUntilAsync(r => r.IsOpen, timeout.Token);

        await server.DisposeAsync();
        await client.Reader.WaitUntilAsync(r => !r.IsOpen, timeout.Token);

        var elapsed = Stopwatch.StartNew();
        (HttpStatusCode status, JsonElement reply) = await client.PostAsync("/sendMessage", """{"author": "alice", "text": "anyone?"}""");
        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, status);
        StringAssert.Contains(reply.GetProperty("error").GetString(), "Unavailable");
        Assert.IsLessThan(TimeSpan.FromSeconds(3), elapsed.Elapsed, "a send to a down server fails instead of hanging");
        using (HttpResponseMessage ready = await client.Http.GetAsync("/"))
        {
            Assert.IsTrue(ready.IsSuccessStatusCode, "the client itself stays up");
        }

        // The server comes back on the same port; the client reopens its stream by itself.
        await using TestServer back = await TestServer.StartAsync(null, $"--Messenger:Port={port}");
        await client.Reader.WaitUntilAsync(r => r.IsOpen, timeout.Token);
        Assert.IsGreaterThanOrEqualTo(2, client.Reader.TimesOpened);

        string sendTime = await client.SendAsync("alice", "back again");
        CollectionAssert.AreEqual(new[] { new BufferedMessage("alice", "back again", sendTime) }, await client.FlushAsync());
    }

    [TestMethod]
    public async Task AClientStartedBeforeItsServerAnswersAndConnectsLater()
    {
        int port;
        await using (TestServer placeholder = await TestServer.StartAsync())
        {
            port = placeholder.MessengerEndPoint.Port;
        }

        await using HttpClientHost client = await HttpClientHost.StartAsync($"127.0.0.1:{port}");
        (HttpStatusCode status, _) = await client.PostAsync("/sendMessage", """{"author": "alice", "text": "early"}""");
        Assert.AreEqual(HttpStatusCode.ServiceUnavailable, status);

        await using TestServer server = await TestServer.StartAsync(null, $"--Messenger:Port={port}");
        using var timeout = new CancellationTokenSource(MessengerTestKit.WaitLimit);
        await client.Reader.WaitUntilAsync(r => r.IsOpen, timeout.Token);
        string sendTime = await client.SendAsync("alice", "on time");
        CollectionAssert.AreEqual(new[] { new BufferedMessage("alice", "on time", sendTime) }, await client.FlushAsync());
    }
}
