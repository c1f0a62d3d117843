using System.Net;

namespace Rto.Server.Endpoints;

/// <summary>
/// What the options of every capability start with: whether it is served and where it listens.
/// The kernel validates these (and then the capability's own settings) once, before anything opens.
/// </summary>
public abstract class EndpointOptions
{
    /// <summary>Sets the defaults of one capability.</summary>
    protected EndpointOptions(int defaultPort, string defaultAddress = "127.0.0.1")
    {
        Port = defaultPort;
        Address = defaultAddress;
    }

    /// <summary>Whether the capability is served at all.</summary>
    public bool Enabled { get; set; } = true;

    /// <summary>The address to listen on; <c>0.0.0.0</c> or <c>::</c> for every interface, <c>localhost</c> for loopback.</summary>
    public string Address { get; set; }

    /// <summary>The TCP port; 0 picks a free one (the chosen port is in the start-up banner).</summary>
    public int Port { get; set; }

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad setting of <paramref name="section"/>.</summary>
    internal void Validate(string section)
    {
        CheckPort(section, nameof(Port), Port);
        _ = ParseAddress(section);
        ValidateSettings();
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
