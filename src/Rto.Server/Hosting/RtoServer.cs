using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Server.Messaging;
using Rto.Server.Metrics;

namespace Rto.Server.Hosting;

/// <summary>
/// Builds the Rto server: one Kestrel host serving every protocol endpoint, configured from
/// <c>appsettings.json</c>, environment variables (<c>Metrics__Port=9000</c>) and the command
/// line (<c>--Metrics:Port=9000</c>), in increasing order of precedence.
/// </summary>
public static class RtoServer
{
    /// <summary>Creates the server application; <paramref name="configure"/> can adjust the builder (tests use it).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        WebApplicationBuilder builder = WebApplication.CreateBuilder(args);
        builder.Services.AddSingleton<RtoEndpoints>();

        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName);
        builder.Services.AddSingleton(sp => new MetricStore(sp.GetRequiredService<IOptions<MetricsOptions>>().Value, sp.GetRequiredService<ILogger<MetricStore>>()));
        builder.AddMessenger();

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            RtoEndpoints endpoints = kestrel.ApplicationServices.GetRequiredService<RtoEndpoints>();
            MetricsOptions metrics = kestrel.ApplicationServices.GetRequiredService<IOptions<MetricsOptions>>().Value;
            if (metrics.Enabled)
            {
                metrics.Validate();
                kestrel.Listen(ParseAddress(metrics.Address, "Metrics:Address"), metrics.Port, listen =>
                {
                    listen.UseConnectionHandler<MetricsConnectionHandler>();
                    endpoints.Add("metrics", "put/get text protocol", listen);
                });
            }

            kestrel.ListenMessenger(endpoints, ParseAddress);
        });

        configure?.Invoke(builder);
        WebApplication app = builder.Build();

        // Open the stores (replaying their logs) before any endpoint accepts a connection.
        if (app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.Enabled)
        {
            app.Services.GetRequiredService<MetricStore>();
        }

        app.MapMessenger();

        app.Lifetime.ApplicationStarted.Register(() =>
            app.Services.GetRequiredService<RtoEndpoints>().LogBanner(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rto.Server")));
        return app;
    }

    private static IPAddress ParseAddress(string address, string setting) =>
        address switch
        {
            "*" or "0.0.0.0" => IPAddress.Any,
            "::" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(address, out IPAddress? parsed) => parsed,
            _ => throw new InvalidOperationException($"{setting} '{address}' is not an IP address."),
        };
}
