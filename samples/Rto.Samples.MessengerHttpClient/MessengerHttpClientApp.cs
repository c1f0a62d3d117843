using System.Text.Json;
using Google.Protobuf.WellKnownTypes;
using Grpc.Net.Client;
using Rto.Client;
using Rto.Client.Messenger;

namespace Rto.Samples.MessengerHttpClient;

/// <summary>
/// The messenger client driven over HTTP. It opens the server's message stream at start-up,
/// buffers what arrives, and serves:
/// <list type="bullet">
/// <item><c>POST /sendMessage</c> <c>{"author","text"}</c> → <c>{"sendTime"}</c></item>
/// <item><c>POST /getAndFlushMessages</c> → <c>[{"author","text","sendTime"}, …]</c>, emptying the buffer
/// (it first waits up to <see cref="MessengerHttpSettings.FlushWait"/> for this client's own sends to arrive)</item>
/// <item><c>GET /</c> → 200 with the stream's state, for readiness checks</item>
/// </list>
/// </summary>
public static class MessengerHttpClientApp
{
    private const long MaxRequestBodySize = 1024 * 1024;

    /// <summary>Builds the app from environment variables and <paramref name="args"/> (<c>--MESSENGER_HTTP_PORT=0</c>); tests host it in-process.</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        MessengerHttpSettings settings = MessengerHttpSettings.From(builder.Configuration);

        builder.Services.AddSingleton(settings);
        builder.Services.AddSingleton(new MessageBuffer(settings.BufferCapacity));
        // One client per server address, each on a channel of its own rather than
        // MessengerClient.ConnectAsync: this app must start, and answer 503, while the servers are
        // down; a channel connects on the first call and reconnects by itself. Its keep-alive
        // pings notice a dead server behind a quiet stream.
        var clientOptions = new MessengerClientOptions { RequestTimeout = settings.SendTimeout, OpenTimeout = settings.OpenTimeout };
        builder.Services.AddSingleton(_ => new MessengerServers(MessengerServers.Split(settings.ServerAddress), clientOptions));
        builder.Services.AddSingleton<MessageStreamReader>();
        builder.Services.AddHostedService(sp => sp.GetRequiredService<MessageStreamReader>());
        builder.Logging.AddFilter("Microsoft.AspNetCore", LogLevel.Warning);
        builder.Logging.AddSimpleConsole(console =>
        {
            console.SingleLine = true;
            console.TimestampFormat = "yyyy-MM-dd HH:mm:ss.fff ";
        });
        builder.WebHost.ConfigureKestrel(kestrel =>
        {
            kestrel.Listen(settings.HttpAddress, settings.HttpPort);
            kestrel.Limits.MaxRequestBodySize = MaxRequestBodySize;
        });

        configure?.Invoke(builder);
        WebApplication app = builder.Build();

        app.MapGet("/", (MessageStreamReader reader, MessengerServers servers) =>
            Results.Ok(new { status = "ok", server = servers.Address.ToString(), servers = servers.Addresses.Select(a => a.ToString()), stream = reader.IsOpen ? "open" : "reconnecting" }));
        app.MapPost("/sendMessage", SendMessageAsync);
        app.MapPost("/getAndFlushMessages", async (MessageBuffer buffer, MessageStreamReader reader, CancellationToken cancellationToken) =>
            Results.Ok(await buffer.FlushAsync(reader.IsOpen ? settings.FlushWait : TimeSpan.Zero, cancellationToken)));
        return app;
    }

    private static async Task<IResult> SendMessageAsync(HttpRequest request, MessengerServers servers, MessageBuffer buffer, CancellationToken cancellationToken)
    {
        // The content type is not checked: `curl -d` sends JSON labelled as a form.
        string author, text;
        try
        {
            using JsonDocument body = await JsonDocument.ParseAsync(request.Body, default, cancellationToken);
            if (body.RootElement.ValueKind != JsonValueKind.Object)
            {
                return Error(StatusCodes.Status400BadRequest, """The body must be a JSON object: {"author": "...", "text": "..."}.""");
            }

            if (!TryGetString(body.RootElement, "author", out author) || !TryGetString(body.RootElement, "text", out text))
            {
                return Error(StatusCodes.Status400BadRequest, """Both "author" and "text" are required and must be strings.""");
            }
        }
        catch (JsonException ex)
        {
            return Error(StatusCodes.Status400BadRequest, $"The body is not valid JSON: {ex.Message}");
        }

        try
        {
            Timestamp sendTime = await servers.SendAsync(author, text, cancellationToken);
            buffer.RecordSent(sendTime);
            return Results.Ok(new { sendTime = MessengerTime.ToText(sendTime) });
        }
        catch (MessengerClientException ex)
        {
            int status = ex.ErrorKind switch
            {
                ClientErrorKind.ConnectFailed or ClientErrorKind.ConnectionLost => StatusCodes.Status503ServiceUnavailable,
                ClientErrorKind.Timeout => StatusCodes.Status504GatewayTimeout,
                ClientErrorKind.Rejected => StatusCodes.Status400BadRequest,
                _ => StatusCodes.Status502BadGateway,
            };
            return Error(status, ex.Message);
        }
    }

    private static bool TryGetString(JsonElement obj, string name, out string value)
    {
        if (obj.TryGetProperty(name, out JsonElement element) && element.ValueKind == JsonValueKind.String)
        {
            value = element.GetString()!;
            return true;
        }

        value = "";
        return false;
    }

    private static IResult Error(int status, string message) => Results.Json(new { error = message }, statusCode: status);
}
