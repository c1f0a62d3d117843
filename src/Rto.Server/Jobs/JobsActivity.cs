namespace Rto.Server.Jobs;

/// <summary>What the jobs endpoint is doing right now, for the Info requests.</summary>
internal sealed class JobsActivity
{
    private int _connections;
    private int _runningJobs;

    /// <summary>Connections being served now.</summary>
    public int Connections => Volatile.Read(ref _connections);

    /// <summary>Jobs running now (queued ones excluded).</summary>
    public int RunningJobs => Volatile.Read(ref _runningJobs);

    public void ConnectionOpened() => Interlocked.Increment(ref _connections);

    public void ConnectionClosed() => Interlocked.Decrement(ref _connections);

    public void JobStarted() => Interlocked.Increment(ref _runningJobs);

    public void JobFinished() => Interlocked.Decrement(ref _runningJobs);
}
