using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rto.Server.Endpoints;

/// <summary>
/// The endpoints the server listens on. Kestrel fills in the real port of a port-0 endpoint
/// when it binds, so after start-up <see cref="GetEndPoint"/> tells where each one ended up.
/// </summary>
public sealed partial class ServerEndpoints(ServerInstruments instruments, ILogger<ServerEndpoints> logger)
{
    private readonly List<(string Name, string Description, ListenOptions Listen)> _endpoints = [];

    /// <summary>
    /// Records an endpoint and puts the connection-level middleware in front of it: its connection
    /// limit, then the observation — the open and active connection instruments, open/close log
    /// events, and a log scope carrying the endpoint and remote address to every message logged
    /// while the connection is served. Call it before whatever ends the connection pipeline.
    /// </summary>
    internal void Add(string name, string description, ListenOptions listen, int maxConnections)
    {
        _endpoints.Add((name, description, listen));
        ServerInstruments.EndpointInstruments endpoint = instruments.For(name);
        listen.Use(new ConnectionLimit(name, maxConnections, endpoint, logger).Wrap);
        listen.Use(next => async connection =>
        {
            endpoint.ConnectionOpened();
            using IDisposable? scope = logger.BeginScope(new ConnectionScope(name, connection.RemoteEndPoint));
            LogOpened(logger, name, connection.ConnectionId, connection.RemoteEndPoint);
            try
            {
                await next(connection);
            }
            finally
            {
                endpoint.ConnectionClosed();
                LogClosed(logger, name, connection.ConnectionId, connection.RemoteEndPoint);
            }
        });
    }

    /// <summary>The endpoint name serving local port <paramref name="port"/>, or null.</summary>
    public string? NameOfPort(int port)
    {
        foreach ((string name, _, ListenOptions listen) in _endpoints)
        {
            if (listen.IPEndPoint?.Port == port)
            {
                return name;
            }
        }

        return null;
    }

    /// <summary>
    /// True when <paramref name="localPort"/> is the port of the endpoint named <paramref name="name"/>:
    /// HTTP routes and gRPC services are mapped on every HTTP listener, so a capability uses this to
    /// answer on its own endpoint only.
    /// </summary>
    public bool Serves(string name, int localPort) => GetEndPoint(name).Port == localPort;

    /// <summary>Every configured endpoint with its description and bound address (null before it is bound), in the order they were added.</summary>
    public IEnumerable<(string Name, string Description, IPEndPoint? EndPoint)> Describe() =>
        _endpoints.Select(e => (e.Name, e.Description, e.Listen.IPEndPoint));

    /// <summary>The names of the configured endpoints, in the order they were added.</summary>
    public IEnumerable<string> Names => _endpoints.Select(e => e.Name);

    /// <summary>The bound address of the endpoint named <paramref name="name"/> (e.g. <c>metrics</c>).</summary>
    public IPEndPoint GetEndPoint(string name)
    {
        foreach ((string n, _, ListenOptions listen) in _endpoints)
        {
            if (n == name)
            {
                return listen.IPEndPoint ?? throw new InvalidOperationException($"Endpoint '{name}' is not an IP endpoint.");
            }
        }

        throw new InvalidOperationException($"No endpoint named '{name}' is configured.");
    }

    internal void LogBanner(ILogger logger)
    {
        foreach ((string name, string description, ListenOptions listen) in _endpoints)
        {
            logger.LogInformation("{Endpoint} endpoint ({Description}) listening on tcp://{Address}", name, description, listen.IPEndPoint);
        }

        logger.LogInformation("Rto server started; press Ctrl+C to stop");
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Endpoint} connection {ConnectionId} opened from {RemoteEndPoint}")]
    private static partial void LogOpened(ILogger logger, string endpoint, string connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Endpoint} connection {ConnectionId} from {RemoteEndPoint} closed")]
    private static partial void LogClosed(ILogger logger, string endpoint, string connectionId, EndPoint? remoteEndPoint);
}

/// <summary>Log scope of one connection: structured <c>Endpoint</c> and <c>RemoteEndPoint</c> fields.</summary>
internal sealed class ConnectionScope(string endpoint, EndPoint? remoteEndPoint) : IReadOnlyList<KeyValuePair<string, object?>>
{
    public int Count => 2;

    public KeyValuePair<string, object?> this[int index] => index switch
    {
        0 => new("Endpoint", endpoint),
        1 => new("RemoteEndPoint", remoteEndPoint?.ToString()),
        _ => throw new ArgumentOutOfRangeException(nameof(index)),
    };

    public IEnumerator<KeyValuePair<string, object?>> GetEnumerator()
    {
        yield return this[0];
        yield return this[1];
    }

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();

    public override string ToString() => $"{endpoint} {remoteEndPoint}";
}
