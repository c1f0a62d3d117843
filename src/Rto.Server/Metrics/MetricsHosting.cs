using Microsoft.Extensions.Options;
using Rto.Server.Endpoints;

namespace Rto.Server.Metrics;

/// <summary>The metrics capability's front door: its options, store, health entry and endpoint.</summary>
internal static class MetricsHosting
{
    public static void AddMetrics(this WebApplicationBuilder builder)
    {
        builder.AddCapability<MetricsOptions>(MetricsOptions.SectionName, ListenMetrics, MapMetrics)
            .ReportsHealth<MetricsHealthCheck>(EndpointNames.Metrics);
        builder.Services.AddSingleton(sp => new MetricStore(sp.GetRequiredService<IOptions<MetricsOptions>>().Value, sp.GetRequiredService<ILogger<MetricStore>>()));
    }

    private static void ListenMetrics(EndpointListener listener, MetricsOptions options) =>
        listener.ListenTcp<MetricsConnectionHandler>(EndpointNames.Metrics, "put/get text protocol");

    // Open the store (replaying its log) before the endpoint accepts a connection.
    private static void MapMetrics(WebApplication app, MetricsOptions options) => app.Services.GetRequiredService<MetricStore>();
}
