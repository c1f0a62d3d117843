using Microsoft.Extensions.Options;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;

namespace Rto.Server.Metrics;

/// <summary>The metrics capability's front door: its options, store, health entry and endpoint.</summary>
internal static class MetricsHosting
{
    public static void AddMetrics(this WebApplicationBuilder builder)
    {
        builder.AddCapability<MetricsOptions>(MetricsOptions.SectionName, ListenMetrics, MapMetrics)
            .ReportsHealth<MetricsHealthCheck>(EndpointNames.Metrics);

        // One store per node with its own log, or in a cluster a copy of the replicated stream.
        if (builder.IsClustered() && (builder.Configuration.GetValue<bool?>($"{MetricsOptions.SectionName}:Enabled") ?? true))
        {
            builder.Services.AddSingleton(sp => MetricStore.CreateReplica(sp.GetRequiredService<IOptions<MetricsOptions>>().Value, sp.GetRequiredService<ILogger<MetricStore>>()));
            builder.AddClusterMember<MetricsReplication>();
        }
        else
        {
            builder.Services.AddSingleton(sp => new MetricStore(sp.GetRequiredService<IOptions<MetricsOptions>>().Value, sp.GetRequiredService<ILogger<MetricStore>>()));
        }
    }

    private static void ListenMetrics(EndpointListener listener, MetricsOptions options) =>
        listener.ListenTcp<MetricsConnectionHandler>(EndpointNames.Metrics, "put/get text protocol");

    // Open the store (replaying its log) before the endpoint accepts a connection.
    private static void MapMetrics(WebApplication app, MetricsOptions options) => app.Services.GetRequiredService<MetricStore>();
}
