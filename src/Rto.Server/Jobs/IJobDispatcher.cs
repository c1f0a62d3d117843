using Rto.Protocols.Jobs;

namespace Rto.Server.Jobs;

/// <summary>What the Info requests count: jobs running, jobs waiting, and processes (each server one, plus one per connection it serves).</summary>
internal readonly record struct JobsCounts(int Running, int Queued, int Processes);

/// <summary>
/// Where a job accepted by this node runs: on this node's <see cref="JobRunner"/> (single node), or
/// on the first node of the cluster with a free slot (<see cref="ClusterJobQueue"/>).
/// </summary>
internal interface IJobDispatcher
{
    /// <summary>Runs <paramref name="request"/> and returns how it ended (see <see cref="JobRunner.RunAsync"/>).</summary>
    Task<JobOutcome> RunAsync(JobRequest request, CancellationToken serverStopping, CancellationToken clientGone);

    /// <summary>The counts the Info requests answer: this node's, or the cluster's.</summary>
    ValueTask<JobsCounts> CountAsync(CancellationToken cancellationToken);
}

/// <summary>A single node: jobs run here, and the counts are this node's.</summary>
internal sealed class LocalJobDispatcher(JobRunner runner, JobsActivity activity) : IJobDispatcher
{
    public Task<JobOutcome> RunAsync(JobRequest request, CancellationToken serverStopping, CancellationToken clientGone) =>
        runner.RunAsync(request, serverStopping, clientGone);

    // The original counts itself as one process and each connection it serves as another.
    public ValueTask<JobsCounts> CountAsync(CancellationToken cancellationToken) =>
        ValueTask.FromResult(new JobsCounts(activity.RunningJobs, 0, 1 + activity.Connections));
}
