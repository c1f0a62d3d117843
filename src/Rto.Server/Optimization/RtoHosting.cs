using Rto.Optimization.Models;
using Rto.Server.Optimization.Models;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.DependencyInjection.Extensions;
using Microsoft.Extensions.Options;
using Rto.Server.Hosting;

namespace Rto.Server.Optimization;

/// <summary>Wires the RTO capability into the server: configuration, services, endpoint, routes.</summary>
internal static class RtoHosting
{
    public static void AddRto(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<RtoOptions>().BindConfiguration(RtoOptions.SectionName);
        builder.Services.TryAddSingleton(TimeProvider.System);
        builder.Services.TryAddSingleton(sp =>
        {
            // A first start lays out a documented sample model next to the built-in ones.
            RtoOptions options = sp.GetRequiredService<IOptions<RtoOptions>>().Value;
            ModelCatalog.EnsureSample(options.ModelsDirectory);
            return new ModelCatalog(options.ModelsDirectory, BuiltInModels.All, sp.GetRequiredService<ILogger<ModelCatalog>>());
        });
        builder.Services.AddSingleton<SessionStore>();
        builder.Services.AddSingleton<RtoEndpointInterceptor>();
        builder.Services.AddSingleton<AccessTokenInterceptor>();
        builder.Services.AddGrpc()
            .AddServiceOptions<RtoGrpcService>(o =>
            {
                o.Interceptors.Add<RtoEndpointInterceptor>();
                o.Interceptors.Add<AccessTokenInterceptor>();
            })
            .AddServiceOptions<DataProcessingGrpcService>(o =>
            {
                o.Interceptors.Add<RtoEndpointInterceptor>();
                o.Interceptors.Add<AccessTokenInterceptor>();
            });
        // grpc.health.v1 answers UNKNOWN without a registered check: this one says whether the
        // session store is open and has room for another session.
        builder.Services.AddGrpcHealthChecks().AddCheck<SessionStoreHealthCheck>("rto-sessions");
    }

    public static void ListenRto(this KestrelServerOptions kestrel, RtoEndpoints endpoints, Func<string, string, System.Net.IPAddress> parseAddress)
    {
        RtoOptions options = kestrel.ApplicationServices.GetRequiredService<IOptions<RtoOptions>>().Value;
        if (!options.Enabled)
        {
            return;
        }

        options.Validate();
        kestrel.Listen(parseAddress(options.Address, "Rto:Address"), options.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http2;
            endpoints.Add("rto", "gRPC Grpc.RtoApi.RtoService + DataProcessingService, plaintext HTTP/2", listen);
        });
    }

    public static void MapRto(this WebApplication app)
    {
        RtoOptions options = app.Services.GetRequiredService<IOptions<RtoOptions>>().Value;
        if (!options.Enabled)
        {
            return;
        }

        // Restore the sessions from their files before the endpoint accepts a call.
        app.Services.GetRequiredService<SessionStore>();
        app.MapGrpcService<RtoGrpcService>();
        app.MapGrpcService<DataProcessingGrpcService>();
        app.MapGrpcHealthChecksService();
    }
}
