using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rto.Server.Storage;

namespace Rto.Server.Optimization;

/// <summary>
/// The optimization entry of the health report: degraded when the session store is full
/// (<see cref="OptimizationOptions.MaxSessions"/>) or the sessions directory is short of disk space.
/// </summary>
internal sealed class SessionStoreHealthCheck(SessionStore sessions, DiskSpace disk, IOptions<OptimizationOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        int count = sessions.Count;
        HealthCheckResult space = disk.Check(options.Value.SessionsDirectory, $"{count} sessions");
        var data = new Dictionary<string, object>(space.Data) { ["sessions"] = count };
        return Task.FromResult(space.Status == HealthStatus.Healthy && count >= options.Value.MaxSessions
            ? HealthCheckResult.Degraded($"{count} sessions: the limit {OptimizationOptions.SectionName}:MaxSessions is reached", data: data)
            : new HealthCheckResult(space.Status, space.Description, data: data));
    }
}
