using Microsoft.Extensions.Options;
using Rto.Server.Jobs;

namespace Rto.Server.Console;

/// <summary>The jobs page: running and queued jobs with their elapsed time, the last results and errors.</summary>
internal sealed class JobsView(JobBoard board, IOptions<JobsOptions> options)
{
    public LiveView Stream()
    {
        long seen = -1;
        long lastSent = 0;
        return new LiveView(() =>
        {
            // Elapsed times move on their own: a page with running jobs is refreshed every second.
            JobBoardSnapshot? snapshot = null;
            long version = board.Version;
            if (version == seen && (Environment.TickCount64 - lastSent < 1000 || (snapshot = board.Snapshot()).Current.Count == 0))
            {
                return null;
            }

            seen = version;
            lastSent = Environment.TickCount64;
            return Snapshot(snapshot ?? board.Snapshot());
        });
    }

    public object Snapshot(JobBoardSnapshot snapshot)
    {
        DateTimeOffset now = DateTimeOffset.UtcNow;
        return new
        {
            time = now,
            maxParallelJobs = options.Value.MaxParallelJobs,
            queueCapacity = options.Value.QueueCapacity,
            completed = snapshot.Completed,
            failed = snapshot.Failed,
            running = snapshot.Current.Where(j => j.Started is not null).Select(j => Row(j, now)),
            queued = snapshot.Current.Where(j => j.Started is null).Select(j => Row(j, now)),
            recent = snapshot.Recent.Select(j => Row(j, now)),
        };
    }

    private static object Row(JobEntry job, DateTimeOffset now) => new
    {
        id = job.Id,
        directory = job.Directory,
        input = job.Base,
        task = job.File,
        admitted = job.Admitted,
        started = job.Started,
        finished = job.Finished,
        waitedSeconds = ((job.Started ?? job.Finished ?? now) - job.Admitted).TotalSeconds,
        elapsedSeconds = job.Started is { } started ? ((job.Finished ?? now) - started).TotalSeconds : (double?)null,
        result = job.ResultFile,
        error = job.Error,
    };
}
