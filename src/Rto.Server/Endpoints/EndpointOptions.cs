using System.Net;

namespace Rto.Server.Endpoints;

/// <summary>
/// What the options of every capability start with: whether it is served, where it listens and how
/// many connections each of its endpoints holds. The kernel validates these (and then the
/// capability's own settings) once, before anything opens.
/// </summary>
public abstract class EndpointOptions
{
    /// <summary>
    /// The connections one endpoint holds unless configured otherwise: room for the ten thousand idle
    /// connections a probe held (about 5 KB each) with a good client beside them, while one endpoint
    /// can never take every file descriptor of the process.
    /// </summary>
    public const int DefaultMaxConnections = 16_384;

    /// <summary>Sets the defaults of one capability.</summary>
    protected EndpointOptions(int defaultPort, string defaultAddress = "127.0.0.1", int defaultMaxConnections = DefaultMaxConnections)
    {
        Port = defaultPort;
        Address = defaultAddress;
        MaxConnections = defaultMaxConnections;
    }

    /// <summary>Whether the capability is served at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The address to listen on; <c>0.0.0.0</c> or <c>::</c> for every interface, <c>localhost</c> for loopback.</summary>
    public string Address { get; set; }

    /// <summary>The TCP port; 0 picks a free one (the chosen port is in the start-up banner).</summary>
    public int Port { get; set; }

    /// <summary>
    /// How many connections each endpoint of the capability holds at once; a further one is closed as
    /// soon as it is accepted (counted as a <c>connection_limit</c> error). Kestrel's own limit,
    /// <c>MaxConcurrentConnections</c>, counts the whole server; this one counts each endpoint.
    /// </summary>
    public int MaxConnections { get; set; }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad setting of <paramref name="section"/>.</summary>
    internal void Validate(string section)
    {
        CheckPort(section, nameof(Port), Port);
        _ = ParseAddress(section);
        ValidateLimits(section);
        ValidateSettings();
    }

    /// <summary>Checks the connection limits every endpoint has.</summary>
    private protected virtual void ValidateLimits(string section)
    {
        if (MaxConnections < 1)
        {
            throw new InvalidOperationException($"{section}:{nameof(MaxConnections)} must be at least 1, not {MaxConnections}.");
        }
    }

    /// <summary>The listen address, or an <see cref="InvalidOperationException"/> naming the setting.</summary>
    internal IPAddress ParseAddress(string section) =>
        Address switch
        {
            "*" or "0.0.0.0" => IPAddress.Any,
            "::" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(Address, out IPAddress? parsed) => parsed,
            _ => throw new InvalidOperationException($"{section}:Address '{Address}' is not an IP address."),
        };

    /// <summary>Checks the capability's own settings; throws <see cref="InvalidOperationException"/> naming the first bad one.</summary>
    protected virtual void ValidateSettings()
    {
    }

    /// <summary>The one port check, for <see cref="Port"/> and any further port a capability listens on.</summary>
    protected static void CheckPort(string section, string setting, int port, int lowest = 0)
    {
        if (port < lowest || port > IPEndPoint.MaxPort)
        {
            throw new InvalidOperationException($"{section}:{setting} must be between {lowest} and {IPEndPoint.MaxPort}, not {port}.");
        }
    }
}
