using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Rto.Server.Optimization;

/// <summary>Healthy while the session store is open and below <see cref="RtoOptions.MaxSessions"/>; degraded when full.</summary>
internal sealed class SessionStoreHealthCheck(IServiceProvider services, IOptions<RtoOptions> options) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        if (!options.Value.Enabled)
        {
            return Task.FromResult(HealthCheckResult.Healthy("RTO endpoint disabled"));
        }

        int count = services.GetRequiredService<SessionStore>().Count;
        return Task.FromResult(count < options.Value.MaxSessions
            ? HealthCheckResult.Healthy($"{count} sessions")
            : HealthCheckResult.Degraded($"{count} sessions: the limit Rto:MaxSessions is reached"));
    }
}
