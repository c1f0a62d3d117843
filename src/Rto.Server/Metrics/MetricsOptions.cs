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
    /// A log segment is closed and a new one started once it reaches this size. Closed segments are
    /// compacted into a snapshot of the live points once they outgrow the previous snapshot.
    /// </summary>
    public long SegmentSize { get; set; } = 64L * 1024 * 1024;

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
