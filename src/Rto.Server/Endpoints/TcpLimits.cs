namespace Rto.Server.Endpoints;

/// <summary>
/// The time limits the loop applies to every connection of one endpoint, from its
/// <see cref="TcpEndpointOptions"/>. Each is enforced in one place, <see cref="TcpConnectionHandler"/>;
/// the connection count is the listener's (<see cref="ConnectionLimit"/>), as it holds for HTTP
/// endpoints too.
/// </summary>
/// <param name="IdleTimeout">How long one read may wait for the first byte of a frame; infinite for none.</param>
/// <param name="FrameTimeout">How long the reads of one frame may wait in all, from its first byte to its last; infinite for none.</param>
internal readonly record struct TcpLimits(TimeSpan IdleTimeout, TimeSpan FrameTimeout)
{
    /// <summary>No limit: a connection may stay silent, or trickle, as long as its peer likes.</summary>
    public static TcpLimits None => new(Timeout.InfiniteTimeSpan, Timeout.InfiniteTimeSpan);

    /// <summary>The limits of <paramref name="options"/>, where zero means none.</summary>
    public static TcpLimits From(TcpEndpointOptions options) => new(OrInfinite(options.IdleTimeout), OrInfinite(options.FrameTimeout));

    /// <summary>True when a connection can be closed for taking too long.</summary>
    public bool Any => IdleTimeout != Timeout.InfiniteTimeSpan || FrameTimeout != Timeout.InfiniteTimeSpan;

    private static TimeSpan OrInfinite(TimeSpan limit) => limit == TimeSpan.Zero ? Timeout.InfiniteTimeSpan : limit;
}
