using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Grpc.AspNetCore.Server;
using Rto.Server.Hosting;

namespace Rto.Server.Messaging;

/// <summary>Wires the messenger capability into the server: configuration, services, endpoint, routes.</summary>
internal static class MessengerHosting
{
    public static void AddMessenger(this WebApplicationBuilder builder)
    {
        AddPortEnvironmentVariable(builder.Configuration);
        builder.Services.AddOptions<MessengerOptions>().BindConfiguration(MessengerOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new ChatRoom(sp.GetRequiredService<IOptions<MessengerOptions>>().Value, sp.GetRequiredService<TimeProvider>()));

        builder.Services.AddGrpc();
        builder.Services.AddOptions<GrpcServiceOptions<MessengerService>>()
            .Configure<IOptions<MessengerOptions>>((grpc, messenger) => grpc.MaxReceiveMessageSize = messenger.Value.MaxMessageSize);
    }

    public static void ListenMessenger(this KestrelServerOptions kestrel, RtoEndpoints endpoints, Func<string, string, System.Net.IPAddress> parseAddress)
    {
        MessengerOptions options = kestrel.ApplicationServices.GetRequiredService<IOptions<MessengerOptions>>().Value;
        if (!options.Enabled)
        {
            return;
        }

        options.Validate();
        kestrel.Listen(parseAddress(options.Address, "Messenger:Address"), options.Port, listen =>
        {
            // Plaintext HTTP/2 with prior knowledge, as grpcurl -plaintext and gRPC clients expect.
            listen.Protocols = HttpProtocols.Http2;
            endpoints.Add("messenger", "gRPC mes_grpc.MessengerServer, plaintext HTTP/2", listen);
        });
    }

    public static void MapMessenger(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<MessengerOptions>>().Value.Enabled)
        {
            return;
        }

        app.MapGrpcService<MessengerService>();

        // Open streams end as soon as shutdown starts instead of holding it up until its timeout.
        ChatRoom room = app.Services.GetRequiredService<ChatRoom>();
        app.Lifetime.ApplicationStopping.Register(room.Close);
    }

    /// <summary>
    /// Makes <c>MESSENGER_SERVER_PORT</c> set <c>Messenger:Port</c>, above appsettings.json but
    /// below <c>Messenger__Port</c> and the command line.
    /// </summary>
    private static void AddPortEnvironmentVariable(ConfigurationManager configuration)
    {
        string? port = Environment.GetEnvironmentVariable(MessengerOptions.PortEnvironmentVariable);
        if (string.IsNullOrWhiteSpace(port))
        {
            return;
        }

        var source = new MemoryConfigurationSource { InitialData = [new($"{MessengerOptions.SectionName}:Port", port.Trim())] };
        IList<IConfigurationSource> sources = configuration.Sources;
        int index = -1;
        for (int i = 0; i < sources.Count && index < 0; i++)
        {
            if (sources[i] is EnvironmentVariablesConfigurationSource { Prefix: null or "" })
            {
                index = i;
            }
        }

        if (index < 0)
        {
            sources.Add(source);
        }
        else
        {
            sources.Insert(index, source);
        }
    }
}
