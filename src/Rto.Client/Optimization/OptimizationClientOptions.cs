namespace Rto.Client.Optimization;

/// <summary>Settings of an <see cref="OptimizationClient"/>.</summary>
public sealed class OptimizationClientOptions
{
    /// <summary>How long connecting may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// The deadline of one call (an iteration, a start, a model evaluation); a run of many
    /// iterations has no deadline of its own. <see cref="Timeout.InfiniteTimeSpan"/> for none. Default 1 min.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromMinutes(1);

    /// <summary>The access token sent with every call, when the server requires one (<c>Optimization:AccessTokens</c>).</summary>
    public string? AccessToken { get; set; }
}
