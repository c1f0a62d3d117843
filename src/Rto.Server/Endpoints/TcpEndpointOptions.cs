namespace Rto.Server.Endpoints;

/// <summary>
/// The options of a capability that serves a raw TCP protocol: beside what every endpoint has, how
/// long a connection may stay silent and how long one frame may take to arrive. The TCP loop
/// (<see cref="TcpConnectionHandler"/>) enforces both. HTTP endpoints (gRPC, the meters queries,
/// health) are held to Kestrel's own limits instead (<c>Kestrel:Limits:KeepAliveTimeout</c>,
/// <c>RequestHeadersTimeout</c>, <c>MinRequestBodyDataRate</c>, …), which Kestrel keeps for the whole
/// server rather than per endpoint.
/// </summary>
public abstract class TcpEndpointOptions : EndpointOptions
{
    /// <summary>How long a frame may take unless configured otherwise; see <see cref="FrameTimeout"/>.</summary>
    public static readonly TimeSpan DefaultFrameTimeout = TimeSpan.FromSeconds(10);

    /// <summary>Sets the defaults of one capability; <paramref name="defaultIdleTimeout"/> is required because what silence means differs by protocol.</summary>
    protected TcpEndpointOptions(int defaultPort, TimeSpan defaultIdleTimeout, string defaultAddress = "127.0.0.1", int defaultMaxConnections = DefaultMaxConnections)
        : base(defaultPort, defaultAddress, defaultMaxConnections)
    {
        IdleTimeout = defaultIdleTimeout;
    }

    /// <summary>
    /// How long a connection may go without receiving a byte before the server closes it (an
    /// <c>idle_timeout</c> error); time the server spends answering (a running job) does not count.
    /// <c>00:00:00</c> turns it off.
    /// </summary>
    public TimeSpan IdleTimeout { get; set; }

    /// <summary>
    /// How long one frame — a request line, a reading, a JSON request — may take to arrive once its
    /// first byte has (a <c>frame_timeout</c> error then closes the connection), whatever the pace of
    /// its bytes: TCP's form of Kestrel's minimum request data rate. Only time spent waiting for bytes
    /// counts. <c>00:00:00</c> turns it off.
    /// </summary>
    public TimeSpan FrameTimeout { get; set; } = DefaultFrameTimeout;

    // The longest timer .NET can set (CancellationTokenSource.CancelAfter).
    private static readonly TimeSpan s_longest = TimeSpan.FromDays(49);

    private protected override void ValidateLimits(string section)
    {
        base.ValidateLimits(section);
        CheckTimeout(section, nameof(IdleTimeout), IdleTimeout);
        CheckTimeout(section, nameof(FrameTimeout), FrameTimeout);
    }

    private static void CheckTimeout(string section, string setting, TimeSpan value)
    {
        if (value < TimeSpan.Zero || value > s_longest)
        {
            throw new InvalidOperationException($"{section}:{setting} must be between 00:00:00 (off) and {s_longest.Days}.00:00:00, not {value}.");
        }
    }
}
