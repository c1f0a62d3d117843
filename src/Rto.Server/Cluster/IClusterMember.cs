namespace Rto.Server.Cluster;

/// <summary>
/// A capability's cluster behaviour that must be ready before the node serves: it creates its
/// streams or buckets and starts its consumers in <see cref="JoinAsync"/>.
/// </summary>
internal interface IClusterMember
{
    /// <summary>Called once on start, in the order the members were added, after the node connected; throw to stop the start.</summary>
    Task JoinAsync(CancellationToken cancellationToken);

    /// <summary>Called once on shutdown, after the endpoints stopped and before the connection closes.</summary>
    Task LeaveAsync(CancellationToken cancellationToken);
}
