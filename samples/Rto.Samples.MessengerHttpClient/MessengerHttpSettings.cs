using System.Globalization;
using System.Net;
using Rto.Client;

namespace Rto.Samples.MessengerHttpClient;

/// <summary>
/// The client's settings, read from environment variables (or <c>--NAME=value</c> on the
/// command line). Only the first two are part of the messenger spec; the rest have safe defaults.
/// </summary>
public sealed record MessengerHttpSettings
{
    /// <summary>
    /// The gRPC server, <c>host:port</c> or <c>http://host:port</c> (<c>MESSENGER_SERVER_ADDR</c>);
    /// several, comma-separated, for the nodes of a cluster (failover in that order).
    /// </summary>
    public string ServerAddress { get; init; } = "localhost:51075";

    /// <summary>The HTTP port (<c>MESSENGER_HTTP_PORT</c>); 0 picks a free one.</summary>
    public int HttpPort { get; init; } = 8080;

    /// <summary>The HTTP listen address (<c>MESSENGER_HTTP_ADDRESS</c>); every interface by default.</summary>
    public IPAddress HttpAddress { get; init; } = IPAddress.Any;

    /// <summary>The most messages kept between two flushes (<c>MESSENGER_BUFFER_CAPACITY</c>); the oldest go first.</summary>
    public int BufferCapacity { get; init; } = 100_000;

    /// <summary>The deadline of one send (<c>MESSENGER_SEND_TIMEOUT</c>, e.g. <c>00:00:05</c>).</summary>
    public TimeSpan SendTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long opening the stream waits for the server to confirm it (<c>MESSENGER_OPEN_TIMEOUT</c>);
    /// a server that sends headers only with its first message (grpc-python) never does, and its
    /// stream counts as open after this wait.
    /// </summary>
    public TimeSpan OpenTimeout { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>The first wait before reopening a broken stream; it doubles on every failed attempt.</summary>
    public TimeSpan ReconnectInitialDelay { get; init; } = TimeSpan.FromMilliseconds(100);

    /// <summary>The longest wait between two attempts to reopen the stream (<c>MESSENGER_RECONNECT_MAX_DELAY</c>).</summary>
    public TimeSpan ReconnectMaxDelay { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a flush waits for this client's own sent messages to arrive on the stream, so that
    /// send-then-flush shows the message. Only used while the stream is open.
    /// </summary>
    public TimeSpan FlushWait { get; init; } = TimeSpan.FromSeconds(1);

    /// <summary>Reads the settings from <paramref name="configuration"/> (environment variables and command line).</summary>
    public static MessengerHttpSettings From(IConfiguration configuration)
    {
        var defaults = new MessengerHttpSettings();
        var settings = new MessengerHttpSettings
        {
            ServerAddress = configuration["MESSENGER_SERVER_ADDR"] is { Length: > 0 } address ? address : defaults.ServerAddress,
            HttpPort = Read(configuration, "MESSENGER_HTTP_PORT", defaults.HttpPort, text => int.Parse(text, CultureInfo.InvariantCulture)),
            HttpAddress = Read(configuration, "MESSENGER_HTTP_ADDRESS", defaults.HttpAddress, IPAddress.Parse),
            BufferCapacity = Read(configuration, "MESSENGER_BUFFER_CAPACITY", defaults.BufferCapacity, text => int.Parse(text, CultureInfo.InvariantCulture)),
            SendTimeout = Read(configuration, "MESSENGER_SEND_TIMEOUT", defaults.SendTimeout, text => TimeSpan.Parse(text, CultureInfo.InvariantCulture)),
            OpenTimeout = Read(configuration, "MESSENGER_OPEN_TIMEOUT", defaults.OpenTimeout, text => TimeSpan.Parse(text, CultureInfo.InvariantCulture)),
            ReconnectMaxDelay = Read(configuration, "MESSENGER_RECONNECT_MAX_DELAY", defaults.ReconnectMaxDelay, text => TimeSpan.Parse(text, CultureInfo.InvariantCulture)),
        };
        settings.Validate();
        return settings;
    }

    private void Validate()
    {
        string[] addresses = MessengerServers.Split(ServerAddress);
        if (addresses.Length == 0)
        {
            throw new InvalidOperationException("MESSENGER_SERVER_ADDR names no server.");
        }

        foreach (string address in addresses)
        {
            _ = GrpcAddress.Parse(address);
        }
        if (HttpPort is < 0 or > 65535)
        {
            throw new InvalidOperationException($"MESSENGER_HTTP_PORT must be between 0 and 65535, not {HttpPort}.");
        }

        if (BufferCapacity < 1 || SendTimeout <= TimeSpan.Zero || OpenTimeout <= TimeSpan.Zero || ReconnectMaxDelay < ReconnectInitialDelay)
        {
            throw new InvalidOperationException("MESSENGER_BUFFER_CAPACITY, MESSENGER_SEND_TIMEOUT, MESSENGER_OPEN_TIMEOUT and MESSENGER_RECONNECT_MAX_DELAY must be positive (the delay at least 100 ms).");
        }
    }

    private static T Read<T>(IConfiguration configuration, string name, T fallback, Func<string, T> parse)
    {
        string? text = configuration[name];
        if (string.IsNullOrWhiteSpace(text))
        {
            return fallback;
        }

        try
        {
            return parse(text.Trim());
        }
        catch (Exception ex) when (ex is FormatException or OverflowException)
        {
            throw new InvalidOperationException($"{name}='{text}' is not valid.", ex);
        }
    }
}
