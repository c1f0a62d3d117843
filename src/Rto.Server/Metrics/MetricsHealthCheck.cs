using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rto.Server.Storage;

namespace Rto.Server.Metrics;

/// <summary>
/// The metrics store's health: free disk space under its data directory, and memory used against <see cref="MetricsOptions.MaxMemory"/>, keys, and
/// the log and snapshot sizes. Degraded from 90% of the limit, and while puts are refused above it
/// (memory alone never makes it unhealthy: a restart would not free anything).
/// </summary>
internal sealed class MetricsHealthCheck(IOptions<MetricsOptions> options, DiskSpace disk, IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("the metrics endpoint is disabled"));
        }

        MetricStore store = services.GetRequiredService<MetricStore>();
        long used = store.MemoryUsed;
        long limit = store.MaxMemory;
        var data = new Dictionary<string, object>
        {
            ["memoryUsedBytes"] = used,
            ["maxMemoryBytes"] = limit,
            ["keys"] = store.KeyCount,
            ["logBytes"] = store.LogBytes,
            ["snapshotBytes"] = store.SnapshotBytes,
        };
        if (services.GetService<MetricsReplication>() is { } replication)
        {
            // Cluster mode: the stream is the log; how far this node's copy is behind what it knows of.
            data["clusterApplied"] = replication.Applied;
            data["clusterLag"] = replication.Lag;
            if (replication.Applied < replication.Floor)
            {
                return Task.FromResult(HealthCheckResult.Degraded(
                    $"rebuilding the metrics store from stream {MetricsReplication.StreamName}: #{replication.Applied} of #{replication.Floor}; gets wait until it is done", data: data));
            }
        }

        HealthCheckResult space = disk.Check(options.Value.DataDirectory, "enough free disk space for the log");
        data["freeBytes"] = space.Data["freeBytes"];
        if (space.Status != HealthStatus.Healthy)
        {
            return Task.FromResult(new HealthCheckResult(space.Status, space.Description, data: data));
        }

        string usage = $"{used >> 20} MiB of {limit >> 20} MiB ({100.0 * used / limit:F0}%)";
        HealthCheckResult result = used >= limit
            ? HealthCheckResult.Degraded($"metrics memory {usage}: puts are refused (Metrics:MaxMemory)", data: data)
            : used >= limit / 10 * 9
                ? HealthCheckResult.Degraded($"metrics memory {usage}: puts will be refused at the limit (Metrics:MaxMemory)", data: data)
                : HealthCheckResult.Healthy($"metrics memory {usage}", data);
        return Task.FromResult(result);
    }
}
