using Rto.Server.Endpoints;

namespace Rto.Server.Jobs;

/// <summary>Options of the jobs endpoint and runner (configuration section <c>Jobs</c>).</summary>
public sealed class JobsOptions() : EndpointOptions(27700)
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Jobs";

    /// <summary>The largest request object accepted, in bytes; a larger one gets an error reply and the connection is closed.</summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

    /// <summary>
    /// How long a connection may stay silent (between requests, or in the middle of one) before the
    /// server closes it. Time spent running a job does not count.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How many jobs run at the same time; further jobs wait in the queue.</summary>
    public int MaxParallelJobs { get; set; } = 2;

    /// <summary>How many jobs may wait for a free slot; a job beyond that is refused with an error.</summary>
    public int QueueCapacity { get; set; } = 16;

    /// <summary>
    /// The folders a job's <c>Directory</c> must lie in (after resolving symbolic links). Empty means
    /// just <see cref="SampleDirectory"/>.
    /// </summary>
    public List<string> DataRoots { get; set; } = [];

    /// <summary>Where a sample time series and sample tasks are generated on first start (empty: none).</summary>
    public string SampleDirectory { get; set; } = "data/jobs/sample";

    /// <summary>The largest task file read, in bytes.</summary>
    public int MaxTaskFileSize { get; set; } = 64 * 1024;

    protected override void ValidateSettings()
    {
        if (MaxFrameSize < 64)
        {
            throw new InvalidOperationException($"Jobs:MaxFrameSize must be at least 64 bytes, not {MaxFrameSize}.");
        }

        if (IdleTimeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Jobs:IdleTimeout must be positive.");
        }

        if (MaxParallelJobs < 1)
        {
            throw new InvalidOperationException($"Jobs:MaxParallelJobs must be at least 1, not {MaxParallelJobs}.");
        }

        if (QueueCapacity < 0)
        {
            throw new InvalidOperationException($"Jobs:QueueCapacity must not be negative, not {QueueCapacity}.");
        }

        if (DataRoots.Count == 0 && string.IsNullOrWhiteSpace(SampleDirectory))
        {
            throw new InvalidOperationException("Jobs:DataRoots is empty and Jobs:SampleDirectory is not set: no folder could hold a job.");
        }
    }
}
