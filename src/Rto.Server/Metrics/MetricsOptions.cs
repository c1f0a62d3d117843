using Rto.Server.Endpoints;
using Rto.Server.Storage;

namespace Rto.Server.Metrics;

/// <summary>Options of the metrics endpoint and store (configuration section <c>Metrics</c>).</summary>
/// <remarks>
/// Idle timeout: an hour. Metrics clients keep one connection open and may put rarely (a sampler
/// that reports every few minutes), and the original clients do not reconnect when the server
/// closes, so only a connection silent for an hour — a peer long gone, or one holding a slot for
/// nothing — is closed. A request line arrives in one write, so the frame timeout stays short.
/// </remarks>
public sealed class MetricsOptions() : TcpEndpointOptions(8888, defaultIdleTimeout: TimeSpan.FromHours(1))
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Metrics";

    /// <summary>The longest request line accepted, in bytes; longer lines get an error reply.</summary>
    public int MaxLineLength { get; set; } = 64 * 1024;

    /// <summary>Where the append-only log and its snapshots live.</summary>
    public string DataDirectory { get; set; } = "data/metrics";

    /// <summary>When the log is fsync'ed.</summary>
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.Interval;

    /// <summary>How often the log is fsync'ed under <see cref="FsyncPolicy.Interval"/>.</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A log segment is closed and a new one started once it reaches this size. Once the log holds
    /// this much, or an eighth of the last snapshot if that is more, a checkpoint writes a new
    /// snapshot of the compressed chunks and deletes the segments it covers.
    /// </summary>
    public long SegmentSize { get; set; } = 8L * 1024 * 1024;

    /// <summary>
    /// How long points are kept, counted back from each key's newest point: whole chunks older than
    /// that are dropped, in memory and from the next snapshot on, and older puts are refused.
    /// <see cref="TimeSpan.Zero"/> (the default) keeps everything.
    /// </summary>
    public TimeSpan Retention { get; set; } = TimeSpan.Zero;

    /// <summary>
    /// The memory the stored points may take, in bytes; beyond it puts get an error reply (nothing is
    /// evicted) while gets go on. 0 (the default) means half of the memory available to the process
    /// (physical memory, or the container's limit).
    /// </summary>
    public long MaxMemory { get; set; }

    /// <summary>
    /// Cluster mode only: what a get waits for before it answers. <see cref="MetricsClusterReads.Connection"/>
    /// (the default): the points its own connection got acknowledged (read-your-writes), at no cost.
    /// <see cref="MetricsClusterReads.Latest"/>: every point acknowledged anywhere before the get
    /// arrived, at the cost of one question to the stream's leader per get.
    /// </summary>
    public MetricsClusterReads ClusterReads { get; set; } = MetricsClusterReads.Connection;

    /// <summary><see cref="MaxMemory"/>, with 0 resolved to half of the available memory.</summary>
    internal long EffectiveMaxMemory => MaxMemory > 0 ? MaxMemory : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    protected override void ValidateSettings()
    {
        if (MaxLineLength < 16)
        {
            throw new InvalidOperationException($"Metrics:MaxLineLength must be at least 16 bytes, not {MaxLineLength}.");
        }

        if (SegmentSize < 4096)
        {
            throw new InvalidOperationException($"Metrics:SegmentSize must be at least 4096 bytes, not {SegmentSize}.");
        }

        if (Retention < TimeSpan.Zero || (Retention > TimeSpan.Zero && Retention < TimeSpan.FromSeconds(1)))
        {
            throw new InvalidOperationException($"Metrics:Retention must be zero (keep everything) or at least one second, not {Retention}.");
        }

        if (MaxMemory < 0)
        {
            throw new InvalidOperationException($"Metrics:MaxMemory must be a number of bytes, or 0 for half of the available memory, not {MaxMemory}.");
        }

        if (Fsync == FsyncPolicy.Interval && FsyncInterval <= TimeSpan.Zero)
        {
            throw new InvalidOperationException("Metrics:FsyncInterval must be positive.");
        }

        if (!Enum.IsDefined(ClusterReads))
        {
            throw new InvalidOperationException($"Metrics:ClusterReads must be Connection or Latest, not {ClusterReads}.");
        }

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new InvalidOperationException("Metrics:DataDirectory must be set.");
        }
    }
}

/// <summary>What a get waits for in a cluster (<c>Metrics:ClusterReads</c>).</summary>
public enum MetricsClusterReads
{
    /// <summary>The points the get's own connection got acknowledged: read-your-writes.</summary>
    Connection,

    /// <summary>Every point any node acknowledged before the get arrived.</summary>
    Latest,
}
