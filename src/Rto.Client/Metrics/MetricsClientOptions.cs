namespace Rto.Client.Metrics;

/// <summary>Settings of a <see cref="MetricsClient"/>.</summary>
public sealed class MetricsClientOptions
{
    /// <summary>How long connecting may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a call may wait for its reply. Default 10 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
