using Rto.Server.Endpoints;

namespace Rto.Server.Optimization;

/// <summary>
/// Options of the optimization gRPC endpoint (configuration section <c>Optimization</c>). It listens
/// on loopback by default because the service is plaintext and, without <see cref="AccessTokens"/>,
/// open; set <c>Address</c> to <c>0.0.0.0</c> to serve other machines.
/// </summary>
public sealed class OptimizationOptions() : EndpointOptions(5081)
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Optimization";

    /// <summary>Where each session's file lives; sessions found here are restored at start-up.</summary>
    public string SessionsDirectory { get; set; } = "data/rto/sessions";

    /// <summary>Where formula models are read from (CalculateCV).</summary>
    public string ModelsDirectory { get; set; } = "data/rto/models";

    /// <summary>The accepted access tokens; empty leaves the service open.</summary>
    public List<string> AccessTokens { get; set; } = [];

    /// <summary>At most this many sessions at once; StartOptimizeSession is refused beyond.</summary>
    public int MaxSessions { get; set; } = 100_000;

    /// <summary>The largest <c>max_iterations</c> a session may ask for.</summary>
    public int MaxIterations { get; set; } = 1_000_000;

    /// <summary>The most MVs plus CVs one session may define.</summary>
    public int MaxVariables { get; set; } = 1_000;

    /// <summary>
    /// A fixed seed for every session; unset (the default) derives each session's seed from its id,
    /// so sessions differ yet each is reproducible. The seed used is recorded in the session file.
    /// </summary>
    public int? Seed { get; set; }

    /// <summary>GetServiceStatus <c>serviceId</c>.</summary>
    public string ServiceId { get; set; } = "";

    /// <summary>GetServiceStatus <c>user</c>.</summary>
    public string User { get; set; } = "";

    /// <summary>GetServiceStatus <c>message</c>.</summary>
    public string Message { get; set; } = "";

    /// <summary>
    /// In a cluster (docs/cluster.md): how long a node owns a session after its last call. When the
    /// owner dies, another node takes the session over after at most this long.
    /// </summary>
    public TimeSpan ClusterLease { get; set; } = TimeSpan.FromSeconds(10);

    protected override void ValidateSettings()
    {
        if (ClusterLease < TimeSpan.FromMilliseconds(500) || ClusterLease > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException($"Optimization:ClusterLease must be between 00:00:00.5 and 01:00:00, not {ClusterLease}.");
        }

        if (string.IsNullOrWhiteSpace(SessionsDirectory))
        {
            throw new InvalidOperationException("Optimization:SessionsDirectory must be set.");
        }

        if (MaxSessions < 1 || MaxIterations < 1 || MaxVariables < 1)
        {
            throw new InvalidOperationException($"Optimization:MaxSessions ({MaxSessions}), Optimization:MaxIterations ({MaxIterations}) and Optimization:MaxVariables ({MaxVariables}) must be at least 1.");
        }

        if (AccessTokens.Any(string.IsNullOrEmpty))
        {
            throw new InvalidOperationException("Optimization:AccessTokens must not contain an empty token.");
        }
    }
}
