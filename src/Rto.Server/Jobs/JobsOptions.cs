using Rto.Server.Endpoints;

namespace Rto.Server.Jobs;

/// <summary>Options of the jobs endpoint and runner (configuration section <c>Jobs</c>).</summary>
/// <remarks>
/// Idle timeout: 30 seconds, as before: the original clients send one request and wait for its
/// answer, and time spent running a job does not count. At most 256 connections, because each may
/// hold a request of up to <see cref="MaxFrameSize"/> while it arrives (256 MiB at the defaults), and
/// only <see cref="MaxParallelJobs"/> plus <see cref="QueueCapacity"/> of them can have a job anyway.
/// </remarks>
public sealed class JobsOptions() : TcpEndpointOptions(27700, defaultIdleTimeout: TimeSpan.FromSeconds(30), defaultMaxConnections: 256)
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Jobs";

    /// <summary>The largest request object accepted, in bytes; a larger one gets an error reply and the connection is closed.</summary>
    public int MaxFrameSize { get; set; } = 1024 * 1024;

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

    /// <summary>
    /// The longest a job may run (queue time excluded); a longer one is interrupted (DuckDB's
    /// interrupt, or the Python worker killed) and answered with an error.
    /// </summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// The memory one job may use, in bytes: DuckDB's <c>memory_limit</c> for SQL and the input of
    /// the built-in operations, and the bound on an FFT's input (32 bytes per sample with FFTW,
    /// more for lengths with large prime factors or without FFTW: <c>SpectrumTransform.RequiredBytes</c>).
    /// </summary>
    public long MaxJobMemory { get; set; } = 1L << 30;

    /// <summary>DuckDB's <c>threads</c> for each job: with few threads, jobs leave cores to the other endpoints.</summary>
    public int ThreadsPerJob { get; set; } = 1;

    /// <summary>
    /// The scheduling niceness (0–19) of job threads, the DuckDB threads they start and the Python
    /// workers: the kernel then prefers the endpoints' threads when cores are short. 0 leaves it as is.
    /// </summary>
    public int Nice { get; set; } = 10;

    /// <summary>Python task files (<c>work.py</c> with <c>main(ddf)</c>), section <c>Jobs:Python</c>.</summary>
    public PythonJobOptions Python { get; } = new();

    /// <summary>
    /// In a cluster (docs/cluster.md): how long a node may be silent about a job it runs before the
    /// job is given to another node (a running job reports progress three times per wait).
    /// </summary>
    public TimeSpan ClusterAckWait { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>In a cluster: whether this node runs jobs from the queue (false: it only accepts them).</summary>
    public bool ClusterRunJobs { get; set; } = true;

    /// <summary>In a cluster: how many jobs the cluster's queue holds, waiting or running; a job beyond is refused.</summary>
    public int ClusterQueueCapacity { get; set; } = 1000;

    protected override void ValidateSettings()
    {
        if (ClusterAckWait < TimeSpan.FromSeconds(1))
        {
            throw new InvalidOperationException($"Jobs:ClusterAckWait must be at least 00:00:01, not {ClusterAckWait}.");
        }

        if (ClusterQueueCapacity < 1)
        {
            throw new InvalidOperationException($"Jobs:ClusterQueueCapacity must be at least 1, not {ClusterQueueCapacity}.");
        }

        if (MaxFrameSize < 64)
        {
            throw new InvalidOperationException($"Jobs:MaxFrameSize must be at least 64 bytes, not {MaxFrameSize}.");
        }

        if (MaxParallelJobs < 1)
        {
            throw new InvalidOperationException($"Jobs:MaxParallelJobs must be at least 1, not {MaxParallelJobs}.");
        }

        if (QueueCapacity < 0)
        {
            throw new InvalidOperationException($"Jobs:QueueCapacity must not be negative, not {QueueCapacity}.");
        }

        if (Timeout <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Jobs:Timeout must be positive.");
        }

        if (MaxJobMemory < 16L << 20)
        {
            throw new InvalidOperationException($"Jobs:MaxJobMemory must be at least 16 MiB (16777216), not {MaxJobMemory}.");
        }

        if (ThreadsPerJob < 1)
        {
            throw new InvalidOperationException($"Jobs:ThreadsPerJob must be at least 1, not {ThreadsPerJob}.");
        }

        if (Nice is < 0 or > 19)
        {
            throw new InvalidOperationException($"Jobs:Nice must be between 0 and 19, not {Nice}.");
        }

        Python.Validate();
        if (DataRoots.Count == 0 && string.IsNullOrWhiteSpace(SampleDirectory))
        {
            throw new InvalidOperationException("Jobs:DataRoots is empty and Jobs:SampleDirectory is not set: no folder could hold a job.");
        }
    }
}
