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
    /// A log segment is closed and a new one started once it reaches this size. Closed segments are
    /// compacted into a snapshot of the live points once they outgrow the previous snapshot.
    /// </summary>
    public long SegmentSize { get; set; } = 64L * 1024 * 1024;

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
