namespace Rto.Client.Jobs;

/// <summary>Settings of a <see cref="JobsClient"/>.</summary>
public sealed class JobsClientOptions
{
    /// <summary>How long connecting may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long a request may wait for its reply; jobs can be long. Default 10 min.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The largest reply accepted, in bytes. Default 1 MiB.</summary>
    public int MaxReplySize { get; set; } = 1024 * 1024;
}
