namespace Rto.Server.Cluster;

/// <summary>Whether this node may accept work that must be replicated.</summary>
internal enum ClusterState
{
    /// <summary>Connecting and creating streams; nothing is accepted yet.</summary>
    Starting,

    /// <summary>Connected, and JetStream and every stream of this node have a leader.</summary>
    Available,

    /// <summary>No NATS server reachable.</summary>
    Disconnected,

    /// <summary>Connected, but JetStream (or one of this node's streams) has no quorum, or did not confirm an operation.</summary>
    NoQuorum,

    /// <summary>The node is stopping.</summary>
    Stopped,
}

/// <summary>
/// What every capability consults before it accepts work in a cluster: a node that cannot reach a
/// JetStream quorum refuses with <see cref="ClusterUnavailableException"/> instead of acting alone,
/// so it never answers differently from the rest of the cluster.
/// </summary>
/// <remarks>
/// The state follows the NATS connection's events at once, a probe every
/// <see cref="ClusterOptions.ProbeInterval"/> (<c>ClusterConnection</c>), and the outcome of real
/// operations a capability reports (<see cref="ReportFailure"/>): a publish that timed out makes
/// the next ones fail fast until a probe sees a quorum again.
/// </remarks>
internal sealed class ClusterAvailability
{
    private readonly Lock _gate = new();
    private ClusterState _state = ClusterState.Starting;
    private string _reason = "the node is connecting to NATS";
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);

    /// <summary>The current state.</summary>
    public ClusterState State
    {
        get
        {
            lock (_gate)
            {
                return _state;
            }
        }
    }

    /// <summary>Why the node is not available (or what it is connected to when it is).</summary>
    public string Reason
    {
        get
        {
            lock (_gate)
            {
                return _reason;
            }
        }
    }

    /// <summary>Whether replicated work may be accepted now.</summary>
    public bool IsAvailable => State == ClusterState.Available;

    /// <summary>
    /// Throws <see cref="ClusterUnavailableException"/> unless <see cref="IsAvailable"/>, saying why
    /// and then <paramref name="consequence"/> ("the message was not sent").
    /// </summary>
    public void ThrowIfUnavailable(string consequence)
    {
        lock (_gate)
        {
            if (_state != ClusterState.Available)
            {
                throw new ClusterUnavailableException($"Cluster unavailable on this node: {_reason}; {consequence}. Retry later or on another node.");
            }
        }
    }

    /// <summary>Completes at the next change of state.</summary>
    public Task Changed
    {
        get
        {
            lock (_gate)
            {
                return _changed.Task;
            }
        }
    }

    /// <summary>Completes when the cluster, having been unavailable (disconnected or without quorum), is available again.</summary>
    public async Task RecoveredAsync(CancellationToken cancellationToken)
    {
        bool wasDown = false;
        while (true)
        {
            Task changed = Changed;
            if (IsAvailable && wasDown)
            {
                return;
            }

            wasDown |= State is ClusterState.Disconnected or ClusterState.NoQuorum;
            await changed.WaitAsync(cancellationToken);
        }
    }

    /// <summary>A capability saw JetStream fail an operation (e.g. no publish acknowledgement in time).</summary>
    public void ReportFailure(string reason) => Set(ClusterState.NoQuorum, reason, onlyFrom: ClusterState.Available);

    internal void Set(ClusterState state, string reason) => Set(state, reason, onlyFrom: null);

    private void Set(ClusterState state, string reason, ClusterState? onlyFrom)
    {
        TaskCompletionSource? changed = null;
        lock (_gate)
        {
            if (_state == ClusterState.Stopped || (onlyFrom is { } from && _state != from))
            {
                return;
            }

            if (_state != state || _reason != reason)
            {
                _state = state;
                _reason = reason;
                changed = _changed;
                _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
            }
        }

        changed?.TrySetResult();
    }
}

/// <summary>The node refused an operation because it cannot reach a JetStream quorum: nothing was done, so a retry (here later, or on another node) is safe.</summary>
internal sealed class ClusterUnavailableException(string message, Exception? innerException = null) : Exception(message, innerException);

/// <summary>
/// JetStream did not confirm an operation in time: it may or may not have taken effect (a publish
/// may still be stored), so a blind retry may do it twice. gRPC services answer
/// <c>DEADLINE_EXCEEDED</c>, whose meaning this is.
/// </summary>
internal sealed class ClusterUnconfirmedException(string message, Exception? innerException = null) : Exception(message, innerException);
