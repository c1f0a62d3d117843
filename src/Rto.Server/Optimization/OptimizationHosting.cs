using Rto.Optimization.Models;
using Rto.Server.Optimization.Models;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;

namespace Rto.Server.Optimization;

/// <summary>The optimization capability's front door: its options, model catalog, sessions, health entry, endpoint and gRPC services.</summary>
internal static partial class OptimizationHosting
{
    /// <summary>The section the optimization settings had before they were named after the capability.</summary>
    private const string FormerSectionName = "Rto";

    public static void AddOptimization(this WebApplicationBuilder builder)
    {
        // A renamed section would otherwise be ignored without a word, and the server would start
        // with default settings: on another port, with no access tokens.
        if (builder.Configuration.GetSection(FormerSectionName).Exists())
        {
            throw new InvalidOperationException(
                $"the settings section {FormerSectionName} is now {OptimizationOptions.SectionName}: rename --{FormerSectionName}:… to --{OptimizationOptions.SectionName}:…, {FormerSectionName}__… to {OptimizationOptions.SectionName}__… and \"{FormerSectionName}\" to \"{OptimizationOptions.SectionName}\" in appsettings.json.");
        }

        // The original RTO server's port file, where a deployment kept it; logged once the server runs.
        (string Path, int Port)? serverConfig = ServerConfigFile.AddTo(builder.Configuration, Directory.GetCurrentDirectory());
        if (serverConfig is { } found)
        {
            builder.Services.AddSingleton(new ServerConfigFileUsed(found.Path, found.Port));
        }

        builder.AddCapability<OptimizationOptions>(OptimizationOptions.SectionName, ListenOptimization, MapOptimization)
            .ReportsHealth<SessionStoreHealthCheck>(EndpointNames.Optimization);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(sp =>
        {
            // A first start lays out a documented sample model next to the built-in ones.
            OptimizationOptions options = sp.GetRequiredService<IOptions<OptimizationOptions>>().Value;
            ModelCatalog.EnsureSample(options.ModelsDirectory);
            return new ModelCatalog(options.ModelsDirectory, BuiltInModels.All, sp.GetRequiredService<ILogger<ModelCatalog>>());
        });
        builder.Services.AddSingleton<SessionCalls>();
        if (builder.IsClustered() && (builder.Configuration.GetValue<bool?>($"{OptimizationOptions.SectionName}:Enabled") ?? true))
        {
            // Sessions in JetStream, one owner at a time (docs/cluster.md); no session files.
            builder.Services.AddSingleton(sp => ActivatorUtilities.CreateInstance<SessionStore>(sp, true));
            builder.AddClusterMember<ClusterSessions>();
            builder.Services.AddSingleton<ISessionRouter>(sp => sp.GetRequiredService<ClusterSessions>());
        }
        else
        {
            builder.Services.AddSingleton<SessionStore>();
            builder.Services.AddSingleton<ISessionRouter, LocalSessionRouter>();
        }

        builder.Services.AddSingleton<OptimizationEndpointInterceptor>();
        builder.Services.AddSingleton<AccessTokenInterceptor>();
        builder.Services.AddGrpc()
            .AddServiceOptions<OptimizationGrpcService>(o =>
            {
                o.Interceptors.Add<OptimizationEndpointInterceptor>();
                o.Interceptors.Add<AccessTokenInterceptor>();
            })
            .AddServiceOptions<DataProcessingGrpcService>(o =>
            {
                o.Interceptors.Add<OptimizationEndpointInterceptor>();
                o.Interceptors.Add<AccessTokenInterceptor>();
            });

        // grpc.health.v1 reports the same entries as /health (every capability's), on the gRPC ports.
        builder.Services.AddGrpcHealthChecks();
    }

    private static void ListenOptimization(EndpointListener listener, OptimizationOptions options) =>
        listener.ListenHttp(EndpointNames.Optimization, "gRPC Grpc.RtoApi.RtoService + DataProcessingService, plaintext HTTP/2", HttpProtocols.Http2);

    private static void MapOptimization(WebApplication app, OptimizationOptions options)
    {
        // Restore the sessions from their files before the endpoint accepts a call.
        app.Services.GetRequiredService<SessionStore>();
        if (app.Services.GetService<ServerConfigFileUsed>() is { } serverConfig)
        {
            ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger(typeof(OptimizationHosting).FullName!);
            if (options.Port == serverConfig.Port)
            {
                LogServerConfigUsed(logger, serverConfig.Path, serverConfig.Port);
            }
            else
            {
                LogServerConfigOverridden(logger, serverConfig.Path, serverConfig.Port, options.Port);
            }
        }

        app.MapGrpcService<OptimizationGrpcService>();
        app.MapGrpcService<DataProcessingGrpcService>();
        app.MapGrpcHealthChecksService();
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Optimization: port {Port} from {Path} (the original RTO server's port file; --Optimization:Port overrides it)")]
    private static partial void LogServerConfigUsed(ILogger logger, string path, int port);

    [LoggerMessage(Level = LogLevel.Information, Message = "Optimization: {Path} asks for port {FilePort}; the environment or command line set {Port}, which wins")]
    private static partial void LogServerConfigOverridden(ILogger logger, string path, int filePort, int port);
}

/// <summary>The server_config.json that set the port, for the start-up log line.</summary>
internal sealed record ServerConfigFileUsed(string Path, int Port);
