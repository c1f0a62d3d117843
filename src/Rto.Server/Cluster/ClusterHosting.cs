using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Rto.Server.Cluster;

/// <summary>
/// The cluster kernel's front door. Without <c>Cluster:Nats</c> it registers nothing but the
/// options (no NATS code runs); with it, the node's <see cref="ClusterConnection"/>, the start
/// that connects and lets every <see cref="IClusterMember"/> join before any endpoint listens,
/// the availability probe, and the <c>cluster</c> health entry.
/// </summary>
internal static partial class ClusterHosting
{
    /// <summary>The health entry's name.</summary>
    public const string HealthEntry = "cluster";

    public static void AddCluster(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<ClusterOptions>().BindConfiguration(ClusterOptions.SectionName);
        if (!builder.IsClustered())
        {
            return;
        }

        // Checked now, before any capability opens its store: a bad cluster setting stops the start with one line.
        (builder.Configuration.GetSection(ClusterOptions.SectionName).Get<ClusterOptions>() ?? new ClusterOptions()).Validate();
        builder.Services.AddSingleton(sp => new ClusterConnection(sp.GetRequiredService<IOptions<ClusterOptions>>().Value, sp.GetRequiredService<ILoggerFactory>()));
        builder.Services.AddSingleton(sp => sp.GetRequiredService<ClusterConnection>().Availability);

        // Hosted services start in the order they were added and before Kestrel listens, so the
        // node serves only once it is connected and every member joined.
        builder.Services.AddHostedService<ClusterStart>();
        builder.Services.AddOptions<HealthCheckServiceOptions>().Configure(health =>
            health.Registrations.Add(new HealthCheckRegistration(HealthEntry, services => ActivatorUtilities.CreateInstance<ClusterHealthCheck>(services), failureStatus: null, tags: null)));
    }

    /// <summary>Whether this node runs in a cluster (<c>Cluster:Nats</c> is set); capabilities choose their behaviour with it in their front door.</summary>
    public static bool IsClustered(this WebApplicationBuilder builder) =>
        !string.IsNullOrWhiteSpace(builder.Configuration[$"{ClusterOptions.SectionName}:{nameof(ClusterOptions.Nats)}"]);

    /// <summary>Registers <typeparamref name="TMember"/> as a singleton that joins the cluster on start (call only when <see cref="IsClustered"/>).</summary>
    public static void AddClusterMember<TMember>(this WebApplicationBuilder builder)
        where TMember : class, IClusterMember
    {
        builder.Services.AddSingleton<TMember>();
        builder.Services.AddSingleton<IClusterMember>(sp => sp.GetRequiredService<TMember>());
    }

    /// <summary>Connects, lets the members join, probes availability until shutdown; on stop lets them leave and closes the connection.</summary>
    private sealed partial class ClusterStart(
        ClusterConnection cluster, IEnumerable<IClusterMember> members, IOptions<ClusterOptions> options, ILogger<ClusterStart> logger) : IHostedService
    {
        private readonly CancellationTokenSource _stopping = new();
        private Task _probing = Task.CompletedTask;

        public async Task StartAsync(CancellationToken cancellationToken)
        {
            using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
            deadline.CancelAfter(options.Value.StartTimeout);
            try
            {
                await cluster.ConnectAsync(deadline.Token);
                foreach (IClusterMember member in members)
                {
                    await member.JoinAsync(deadline.Token);
                }

                await cluster.ProbeAsync(deadline.Token);
            }
            catch (Exception ex) when (ex is not OperationCanceledException || !cancellationToken.IsCancellationRequested)
            {
                // A failed start gets no StopAsync: close the connection (and its reconnect loop) here.
                await cluster.DisposeAsync();
                throw ex is InvalidOperationException ? ex : new InvalidOperationException($"Cluster: joining failed: {ClusterConnection.Describe(ex)}", ex);
            }

            _probing = ProbeLoopAsync(_stopping.Token);
        }

        public async Task StopAsync(CancellationToken cancellationToken)
        {
            await _stopping.CancelAsync();
            await _probing;
            foreach (IClusterMember member in members.Reverse())
            {
                try
                {
                    await member.LeaveAsync(cancellationToken);
                }
                catch (Exception ex) when (ex is not OperationCanceledException)
                {
                    LogLeaveFailed(ex, member.GetType().Name);
                }
            }

            await cluster.DisposeAsync();
            _stopping.Dispose();
        }

        private async Task ProbeLoopAsync(CancellationToken stopping)
        {
            using var timer = new PeriodicTimer(options.Value.ProbeInterval);
            ClusterState last = cluster.Availability.State;
            try
            {
                while (await timer.WaitForNextTickAsync(stopping))
                {
                    try
                    {
                        await cluster.ProbeAsync(stopping);
                    }
                    catch (Exception ex) when (ex is not OperationCanceledException)
                    {
                        // Whatever went wrong, the loop must go on, or the state would freeze.
                        cluster.Availability.Set(ClusterState.NoQuorum, $"the availability probe failed ({ex.Message})");
                        LogProbeFailed(ex);
                    }

                    ClusterState now = cluster.Availability.State;
                    if (now != last)
                    {
                        LogStateChanged(now, cluster.Availability.Reason);
                        last = now;
                    }
                }
            }
            catch (OperationCanceledException) when (stopping.IsCancellationRequested)
            {
            }
        }

        [LoggerMessage(Level = LogLevel.Warning, Message = "Cluster state {State}: {Reason}")]
        private partial void LogStateChanged(ClusterState state, string reason);

        [LoggerMessage(Level = LogLevel.Error, Message = "The cluster availability probe failed unexpectedly")]
        private partial void LogProbeFailed(Exception exception);

        [LoggerMessage(Level = LogLevel.Warning, Message = "{Member} did not leave the cluster cleanly")]
        private partial void LogLeaveFailed(Exception exception, string member);
    }

    /// <summary>Healthy while JetStream has quorum; Unhealthy (503) otherwise, so a load balancer sends clients to another node.</summary>
    private sealed class ClusterHealthCheck(ClusterConnection cluster) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            ClusterAvailability availability = cluster.Availability;
            ClusterState state = availability.State;
            var data = new Dictionary<string, object>
            {
                ["node"] = cluster.NodeName,
                ["state"] = state.ToString(),
                ["replicas"] = cluster.Replicas,
                ["server"] = cluster.ConnectedServer,
            };
            return Task.FromResult(state == ClusterState.Available
                ? HealthCheckResult.Healthy($"node {cluster.NodeName}, {availability.Reason}", data)
                : HealthCheckResult.Unhealthy($"node {cluster.NodeName} refuses replicated work: {availability.Reason}", data: data));
        }
    }
}
