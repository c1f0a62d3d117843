using System.Net;
using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Samples.MessengerHttpClient;

namespace Rto.Server.Tests.Messenger;

/// <summary>The messenger HTTP client sample, in process on an ephemeral loopback port, pointed at a messenger server.</summary>
internal sealed class HttpClientHost : IAsyncDisposable
{
    private readonly WebApplication _app;

    private HttpClientHost(WebApplication app)
    {
        _app = app;
        Http = new HttpClient { BaseAddress = new Uri(app.Urls.Single()), Timeout = MessengerTestKit.WaitLimit };
    }

    public HttpClient Http { get; }

    public MessageStreamReader Reader => _app.Services.GetRequiredService<MessageStreamReader>();

    public MessageBuffer Buffer => _app.Services.GetRequiredService<MessageBuffer>();

    public static async Task<HttpClientHost> StartAsync(string serverAddress, params string[] settings)
    {
        WebApplication app = MessengerHttpClientApp.Build(
        [
            $"--MESSENGER_SERVER_ADDR={serverAddress}",
            "--MESSENGER_HTTP_PORT=0",
            "--MESSENGER_HTTP_ADDRESS=127.0.0.1",
            "--MESSENGER_RECONNECT_MAX_DELAY=00:00:00.200",
            "--MESSENGER_SEND_TIMEOUT=00:00:03",
            "--Logging:LogLevel:Default=Warning",
            .. settings,
        ]);
        await app.StartAsync();
        return new HttpClientHost(app);
    }

    public async Task<(HttpStatusCode Status, JsonElement Body)> PostAsync(string path, string? body)
    {
        using HttpContent? content = body is null ? null : new StringContent(body, Encoding.UTF8, "application/x-www-form-urlencoded"); // as curl -d sends it
        using HttpResponseMessage response = await Http.PostAsync(path, content);
        string text = await response.Content.ReadAsStringAsync();
        return (response.StatusCode, JsonDocument.Parse(text).RootElement.Clone());
    }

    /// <summary>POST /sendMessage; asserts 200 and returns the sendTime text.</summary>
    public async Task<string> SendAsync(string author, string text)
    {
        (HttpStatusCode status, JsonElement body) = await PostAsync("/sendMessage", JsonSerializer.Serialize(new { author, text }));
        Assert.AreEqual(HttpStatusCode.OK, status, body.ToString());
        return body.GetProperty("sendTime").GetString()!;
    }

    /// <summary>POST /getAndFlushMessages.</summary>
    public async Task<List<BufferedMessage>> FlushAsync()
    {
        using HttpResponseMessage response = await Http.PostAsync("/getAndFlushMessages", null);
        Assert.AreEqual(HttpStatusCode.OK, response.StatusCode);
        return (await response.Content.ReadFromJsonAsync<List<BufferedMessage>>())!;
    }

    /// <summary>Waits until the stream has delivered the message sent at <paramref name="sendTime"/>.</summary>
    public Task WaitForMessageAsync(string sendTime) =>
        Buffer.WaitUntilReceivedAsync(Google.Protobuf.WellKnownTypes.Timestamp.Parser.ParseJson($"\"{sendTime}\""), CancellationToken.None).WaitAsync(MessengerTestKit.WaitLimit);

    public async ValueTask DisposeAsync()
    {
        Http.Dispose();
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
