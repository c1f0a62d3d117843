using Microsoft.AspNetCore.Server.Kestrel.Core;
using OpenTelemetry.Metrics;
using Rto.Server.Endpoints;

namespace Rto.Server.Console;

/// <summary>
/// The console capability's front door: live pages of every capability (<c>/ui/…</c>, fed by
/// server-sent events from <c>/api/…</c>) and the Prometheus scrape endpoint <c>/metrics</c>, on one
/// HTTP/1.1 endpoint, behind the access tokens when there are any. Unlike the other capabilities the
/// console reads the others' stores (through small read-only methods of theirs); none of them knows it.
/// </summary>
internal static class ConsoleHosting
{
    /// <summary>The Prometheus scrape path.</summary>
    public const string ScrapePath = "/metrics";

    public static void AddConsole(this WebApplicationBuilder builder)
    {
        builder.AddCapability<ConsoleOptions>(ConsoleOptions.SectionName, ListenConsole, MapConsole);
        builder.Services.AddSingleton<ConsoleAccess>();
        builder.Services.AddSingleton<InstrumentTotals>();
        builder.Services.AddSingleton<OverviewView>();
        builder.Services.AddSingleton<OptimizationView>();
        builder.Services.AddSingleton<MetersView>();
        builder.Services.AddSingleton<MetricsView>();
        builder.Services.AddSingleton<JobsView>();
        builder.Services.AddSingleton<MessengerView>();
        if (builder.Configuration.GetValue<bool?>($"{ConsoleOptions.SectionName}:{nameof(ConsoleOptions.Enabled)}") ?? true)
        {
            // A pull exporter: it aggregates only the meters ServerTelemetry enables, and formats them on a scrape.
            builder.AddServerOpenTelemetry().WithMetrics(metrics => metrics.AddPrometheusExporter());
        }
    }

    private static void ListenConsole(EndpointListener listener, ConsoleOptions options) =>
        listener.ListenHttp(EndpointNames.Console, "operator console and Prometheus /metrics, HTTP/1.1", HttpProtocols.Http1);

    private static void MapConsole(WebApplication app, ConsoleOptions options)
    {
        ServerEndpoints endpoints = app.Services.GetRequiredService<ServerEndpoints>();
        ConsoleAccess access = app.Services.GetRequiredService<ConsoleAccess>();

        // Counting and sampling start now, so the overview covers the whole run.
        app.Services.GetRequiredService<OverviewView>();
        bool OnConsole(HttpContext context) => endpoints.Serves(EndpointNames.Console, context.Connection.LocalPort);

        // Everything on the console port passes the gate first; /metrics is answered right behind it.
        app.UseWhen(OnConsole, console =>
        {
            console.Use(access.GateAsync);
            console.UseOpenTelemetryPrometheusScrapingEndpoint(context => context.Request.Path == ScrapePath);
        });

        // Routes are mapped on every HTTP listener; the console's answer on the console port only.
        app.Use(async (context, next) =>
        {
            if (context.GetEndpoint()?.Metadata.GetMetadata<ConsoleRoutes.Route>() is not null && !OnConsole(context))
            {
                context.Response.StatusCode = StatusCodes.Status404NotFound;
                return;
            }

            await next(context);
        });
        ConsoleRoutes.Map(app, options);
    }
}
