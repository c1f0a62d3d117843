using Rto.Protocols.Jobs;

namespace Rto.Server.Jobs;

/// <summary>One job as the board shows it: what was asked, when, and how it ended (null while it has not).</summary>
internal sealed record JobEntry(
    long Id, string? Directory, string? Base, string? File, DateTimeOffset Admitted, DateTimeOffset? Started, DateTimeOffset? Finished, string? ResultFile, string? Error);

/// <summary>The board at one moment: jobs queued or running (oldest first), the last finished ones (newest first), totals.</summary>
internal sealed record JobBoardSnapshot(IReadOnlyList<JobEntry> Current, IReadOnlyList<JobEntry> Recent, long Completed, long Failed);

/// <summary>
/// Which jobs are queued or running now and how the last ones ended, for the operator console. The
/// runner reports each job three times (admitted, started, finished); a report is one short lock.
/// </summary>
internal sealed class JobBoard(TimeProvider time)
{
    /// <summary>How many finished jobs are kept.</summary>
    public const int RecentCapacity = 50;

    private readonly Lock _lock = new();
    private readonly Dictionary<long, JobEntry> _current = [];
    private readonly LinkedList<JobEntry> _recent = new();
    private long _nextId;
    private long _completed;
    private long _failed;
    private long _version;

    /// <summary>Changes with every report, so a reader can tell cheaply whether anything happened.</summary>
    public long Version => Volatile.Read(ref _version);

    public long Admitted(JobRequest request)
    {
        lock (_lock)
        {
            long id = ++_nextId;
            _current[id] = new JobEntry(id, request.Directory, request.Base, request.File, time.GetUtcNow(), null, null, null, null);
            _version++;
            return id;
        }
    }

    public void Started(long id)
    {
        lock (_lock)
        {
            if (_current.TryGetValue(id, out JobEntry? entry))
            {
                _current[id] = entry with { Started = time.GetUtcNow() };
                _version++;
            }
        }
    }

    public void Finished(long id, JobOutcome outcome)
    {
        lock (_lock)
        {
            if (!_current.Remove(id, out JobEntry? entry))
            {
                return;
            }

            _recent.AddFirst(entry with { Finished = time.GetUtcNow(), ResultFile = outcome.ResultFile, Error = outcome.Error });
            if (_recent.Count > RecentCapacity)
            {
                _recent.RemoveLast();
            }

            _ = outcome.Error is null ? _completed++ : _failed++;
            _version++;
        }
    }

    public JobBoardSnapshot Snapshot()
    {
        lock (_lock)
        {
            return new JobBoardSnapshot([.. _current.Values.OrderBy(e => e.Id)], [.. _recent], _completed, _failed);
        }
    }
}
