using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rto.Server.Storage;

namespace Rto.Server.Endpoints;

/// <summary>
/// The kernel every capability plugs into. A capability's <c>Add…</c> method calls
/// <see cref="AddCapability{TOptions}"/> once; the kernel then, for every enabled capability and in
/// the order they were added, validates its options, lets it listen, and maps it — the one place
/// that knows what "enabled" means.
/// </summary>
internal static class ServerCapabilities
{
    /// <summary>
    /// Registers what every capability uses: the endpoint registry, the instruments, gRPC (calls
    /// counted per endpoint) with reflection, health checks, the free-disk thresholds, OpenTelemetry
    /// (<see cref="ServerTelemetry"/>), and the one
    /// Kestrel configuration that lets every enabled capability listen.
    /// </summary>
    public static void AddServerEndpoints(this WebApplicationBuilder builder)
    {
        builder.Services.AddSingleton<ServerInstruments>();
        builder.Services.AddSingleton<ServerEndpoints>();
        builder.Services.AddGrpc(grpc => grpc.Interceptors.Add<GrpcCallInstruments>());

        // One reflection service lists every gRPC service of every capability.
        builder.Services.AddGrpcReflection();
        builder.Services.AddHealthChecks();
        builder.Services.AddOptions<DiskSpaceOptions>().BindConfiguration(DiskSpaceOptions.SectionName);
        builder.Services.AddSingleton<DiskSpace>();
        builder.AddServerTelemetry();

        // Kestrel does not read its HTTP limits from configuration by itself.
        builder.Services.Configure<KestrelServerOptions>(kestrel => KestrelLimits.Bind(kestrel.Limits, builder.Configuration));
        builder.WebHost.ConfigureKestrel((_, kestrel) =>
        {
            ServerEndpoints endpoints = kestrel.ApplicationServices.GetRequiredService<ServerEndpoints>();
            foreach ((ServerCapability capability, EndpointOptions options) in Enabled(kestrel.ApplicationServices))
            {
                capability.Listen(new EndpointListener(kestrel, endpoints, capability.Section, options), options);
            }
        });
    }

    /// <summary>
    /// Registers one capability: its options bound from <paramref name="section"/>, how it listens,
    /// and what it does once the application is built (map routes, open its store before the first
    /// connection). Both run only while the capability is enabled.
    /// </summary>
    public static Capability<TOptions> AddCapability<TOptions>(
        this WebApplicationBuilder builder, string section, Action<EndpointListener, TOptions> listen, Action<WebApplication, TOptions>? map = null)
        where TOptions : EndpointOptions
    {
        builder.Services.AddOptions<TOptions>().BindConfiguration(section);
        builder.Services.AddSingleton(new ServerCapability(
            section,
            services => services.GetRequiredService<IOptions<TOptions>>().Value,
            (listener, options) => listen(listener, (TOptions)options),
            map is null ? null : (app, options) => map(app, (TOptions)options)));
        return new Capability<TOptions>(builder.Services);
    }

    /// <summary>Maps every enabled capability (in the order they were added) and logs the banner once the server has started.</summary>
    public static void MapServerEndpoints(this WebApplication app)
    {
        // Around every HTTP request, so that it sees how each gRPC call ended.
        app.UseMiddleware<GrpcInvalidRequestLog>();

        // Every setting is checked before the first store opens.
        foreach ((ServerCapability capability, EndpointOptions options) in Enabled(app.Services).ToList())
        {
            capability.Map?.Invoke(app, options);
        }

        app.MapGrpcReflectionService();
        app.Lifetime.ApplicationStarted.Register(() =>
            app.Services.GetRequiredService<ServerEndpoints>().LogBanner(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rto.Server")));
    }

    /// <summary>The enabled capabilities with their options, each validated before it is returned.</summary>
    private static IEnumerable<(ServerCapability Capability, EndpointOptions Options)> Enabled(IServiceProvider services)
    {
        foreach (ServerCapability capability in services.GetServices<ServerCapability>())
        {
            EndpointOptions options = capability.Options(services);
            if (options.Enabled)
            {
                options.Validate(capability.Section);
                yield return (capability, options);
            }
        }
    }

    /// <summary>One registered capability, as the kernel runs it.</summary>
    private sealed record ServerCapability(
        string Section, Func<IServiceProvider, EndpointOptions> Options, Action<EndpointListener, EndpointOptions> Listen, Action<WebApplication, EndpointOptions>? Map);
}

/// <summary>What a capability adds beside its endpoints, returned by <see cref="ServerCapabilities.AddCapability{TOptions}"/>.</summary>
internal readonly struct Capability<TOptions>
    where TOptions : EndpointOptions
{
    private readonly IServiceCollection _services;

    internal Capability(IServiceCollection services) => _services = services;

    /// <summary>
    /// Adds the capability's entry, named <paramref name="name"/>, to <c>/health</c> and
    /// <c>grpc.health.v1</c>, while the capability is enabled.
    /// </summary>
    public Capability<TOptions> ReportsHealth<TCheck>(string name)
        where TCheck : class, IHealthCheck
    {
        _services.AddOptions<HealthCheckServiceOptions>().Configure<IOptions<TOptions>>((health, options) =>
        {
            if (options.Value.Enabled)
            {
                health.Registrations.Add(new HealthCheckRegistration(name, services => ActivatorUtilities.GetServiceOrCreateInstance<TCheck>(services), failureStatus: null, tags: null));
            }
        });
        return this;
    }
}
