namespace Rto.Server.Metrics;

/// <summary>When the metrics log is forced to disk with fsync.</summary>
public enum FsyncPolicy
{
    /// <summary>
    /// fsync before every acknowledgement: an acknowledged put survives a power loss. Slowest.
    /// </summary>
    Always,

    /// <summary>
    /// fsync every <see cref="MetricsOptions.FsyncInterval"/> in the background. An acknowledged
    /// put is always written to the OS before its <c>ok</c> and survives a crash of the server
    /// process; a power loss can lose up to one interval.
    /// </summary>
    Interval,

    /// <summary>Never fsync explicitly; the OS writes the log back when it chooses.</summary>
    Never,
}

/// <summary>Options of the metrics endpoint and store (configuration section <c>Metrics</c>).</summary>
public sealed class MetricsOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Metrics";

    /// <summary>Whether the metrics endpoint is served at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The address to listen on; <c>0.0.0.0</c> or <c>::</c> for every interface.</summary>
    public string Address { get; set; } = "127.0.0.1";

    /// <summary>The TCP port; 0 picks a free one (the chosen port is logged).</summary>
    public int Port { get; set; } = 8888;

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

    /// <summary><see cref="MaxMemory"/>, with 0 resolved to half of the available memory.</summary>
    internal long EffectiveMaxMemory => MaxMemory > 0 ? MaxMemory : GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2;

    internal void Validate()
    {
        if (Port is < 0 or > 65535)
        {
            throw new InvalidOperationException($"Metrics:Port must be between 0 and 65535, not {Port}.");
        }

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

        if (string.IsNullOrWhiteSpace(DataDirectory))
        {
            throw new InvalidOperationException("Metrics:DataDirectory must be set.");
        }
    }
}
