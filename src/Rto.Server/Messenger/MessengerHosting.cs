using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Configuration.EnvironmentVariables;
using Microsoft.Extensions.Configuration.Memory;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Grpc.AspNetCore.Server;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;

namespace Rto.Server.Messenger;

/// <summary>The messenger capability's front door: its options, chat room, health entry, endpoint and gRPC service.</summary>
internal static class MessengerHosting
{
    public static void AddMessenger(this WebApplicationBuilder builder)
    {
        AddPortEnvironmentVariable(builder.Configuration);
        builder.AddCapability<MessengerOptions>(MessengerOptions.SectionName, ListenMessenger, MapMessenger)
            .ReportsHealth<MessengerHealthCheck>(EndpointNames.Messenger);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.AddSingleton(sp => new ChatRoom(sp.GetRequiredService<IOptions<MessengerOptions>>().Value, sp.GetRequiredService<TimeProvider>()));

        // One chat per node, or one chat across the cluster's nodes through a JetStream stream.
        if (builder.IsClustered() && (builder.Configuration.GetValue<bool?>($"{MessengerOptions.SectionName}:Enabled") ?? true))
        {
            builder.AddClusterMember<JetStreamSequencer>();
            builder.Services.AddSingleton<IMessageSequencer>(sp => sp.GetRequiredService<JetStreamSequencer>());
        }
        else
        {
            builder.Services.AddSingleton<IMessageSequencer, LocalSequencer>();
        }
        builder.Services.AddOptions<GrpcServiceOptions<MessengerService>>()
            .Configure<IOptions<MessengerOptions>>((grpc, messenger) => grpc.MaxReceiveMessageSize = messenger.Value.MaxMessageSize);
    }

    private static void ListenMessenger(EndpointListener listener, MessengerOptions options) =>
        listener.ListenHttp(EndpointNames.Messenger, "gRPC mes_grpc.MessengerServer, plaintext HTTP/2", HttpProtocols.Http2);

    private static void MapMessenger(WebApplication app, MessengerOptions options)
    {
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

    /// <summary>How many streams read the room.</summary>
    private sealed class MessengerHealthCheck(ChatRoom room) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy($"{room.SubscriptionCount} readers", new Dictionary<string, object> { ["readers"] = room.SubscriptionCount }));
    }
}
