using System.Diagnostics;
using Microsoft.Extensions.Options;
using Rto.Protocols.Jobs;
using Rto.Server.Endpoints;

namespace Rto.Server.Jobs;

/// <summary>How a job ended: the result file it wrote, or why it failed.</summary>
internal readonly record struct JobOutcome(string? ResultFile, string? Error)
{
    public static JobOutcome Done(string resultFile) => new(resultFile, null);

    public static JobOutcome Failed(string error) => new(null, error);
}

/// <summary>
/// Called as each job takes its slot, before it runs. The default does nothing; tests replace it
/// to hold a job in the running state deterministically.
/// </summary>
internal class JobRunObserver
{
    public virtual Task OnJobStartingAsync(JobRequest request, CancellationToken cancellationToken) => Task.CompletedTask;
}

/// <summary>
/// Runs jobs at most <see cref="JobsOptions.MaxParallelJobs"/> at a time, with at most
/// <see cref="JobsOptions.QueueCapacity"/> more waiting (in arrival order) for a slot; a job
/// beyond that is refused at once rather than queued without bound. Each job runs on a thread of
/// its own (<see cref="JobThread"/>) and is cancelled when it outlives <see cref="JobsOptions.Timeout"/>,
/// when its client goes away, or when the server stops. Every admitted job is on the <see cref="JobBoard"/>
/// and is one span (<c>job</c>) of <see cref="ServerTelemetry.Activities"/>.
/// </summary>
internal sealed partial class JobRunner(JobExecutor executor, JobsActivity activity, JobBoard board, JobRunObserver observer, IOptions<JobsOptions> options, ILogger<JobRunner> logger)
    : IDisposable
{
    private readonly SemaphoreSlim _slots = new(options.Value.MaxParallelJobs, options.Value.MaxParallelJobs);
    private readonly int _maxAdmitted = options.Value.MaxParallelJobs + options.Value.QueueCapacity;
    private int _admitted;

    /// <summary>Jobs running or waiting for a slot now.</summary>
    public int Admitted => Volatile.Read(ref _admitted);

    /// <summary>
    /// Runs <paramref name="request"/>. <paramref name="serverStopping"/> cancels it when the server
    /// shuts down; <paramref name="clientGone"/> when its client disconnected (pass none for a job
    /// that asked to keep running).
    /// </summary>
    public async Task<JobOutcome> RunAsync(JobRequest request, CancellationToken serverStopping, CancellationToken clientGone = default)
    {
        if (Interlocked.Increment(ref _admitted) > _maxAdmitted)
        {
            Interlocked.Decrement(ref _admitted);
            return JobOutcome.Failed($"The job queue is full ({options.Value.QueueCapacity} waiting); try again later.");
        }

        using Activity? span = ServerTelemetry.Activities.StartActivity("job");
        span?.SetTag("rto.job.directory", request.Directory).SetTag("rto.job.file", request.File).SetTag("rto.job.base", request.Base);
        long id = board.Admitted(request);
        JobOutcome outcome = JobOutcome.Failed("The job did not finish.");
        try
        {
            outcome = await RunAdmittedAsync(request, id, span, serverStopping, clientGone);
            return outcome;
        }
        finally
        {
            board.Finished(id, outcome);
            if (outcome.Error is not null)
            {
                span?.SetStatus(ActivityStatusCode.Error, outcome.Error);
            }
        }
    }

    private async Task<JobOutcome> RunAdmittedAsync(JobRequest request, long id, Activity? span, CancellationToken serverStopping, CancellationToken clientGone)
    {
        using var cancel = CancellationTokenSource.CreateLinkedTokenSource(serverStopping, clientGone);
        long started = Environment.TickCount64;
        try
        {
            await _slots.WaitAsync(cancel.Token);
            try
            {
                activity.JobStarted();
                board.Started(id);
                span?.AddEvent(new ActivityEvent("started"));
                try
                {
                    // The time limit counts from the slot, not from the queue.
                    started = Environment.TickCount64;
                    cancel.CancelAfter(options.Value.Timeout);
                    await observer.OnJobStartingAsync(request, cancel.Token);
                    JobOutcome outcome = await JobThread.Run(() => executor.Execute(request, cancel.Token), options.Value.Nice, "Rto job");
                    LogFinished(request.Directory, request.File, outcome.Error ?? "ok", Environment.TickCount64 - started);
                    return outcome;
                }
                finally
                {
                    activity.JobFinished();
                }
            }
            finally
            {
                _slots.Release();
            }
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            string why = serverStopping.IsCancellationRequested ? "The server is shutting down; the job was stopped."
                : clientGone.IsCancellationRequested ? "The client disconnected; the job was cancelled."
                : $"The job ran longer than Jobs:Timeout ({options.Value.Timeout}) and was stopped.";
            LogCancelled(request.Directory, request.File, why, Environment.TickCount64 - started);
            return JobOutcome.Failed(why);
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Whatever a task breaks in the engine, the client gets an error reply and the server goes on.
            LogCrashed(ex, request.Directory, request.File);
            return JobOutcome.Failed($"The job failed unexpectedly: {ex.Message}");
        }
        finally
        {
            Interlocked.Decrement(ref _admitted);
        }
    }

    public void Dispose() => _slots.Dispose();

    [LoggerMessage(Level = LogLevel.Error, Message = "Job {Directory} {File} failed unexpectedly")]
    private partial void LogCrashed(Exception exception, string? directory, string? file);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Directory} {File} finished: {Outcome} ({ElapsedMs} ms)")]
    private partial void LogFinished(string? directory, string? file, string outcome, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Directory} {File} stopped: {Reason} ({ElapsedMs} ms)")]
    private partial void LogCancelled(string? directory, string? file, string reason, long elapsedMs);
}
