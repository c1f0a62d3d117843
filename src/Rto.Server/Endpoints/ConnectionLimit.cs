using System.Net;
using Microsoft.AspNetCore.Connections;

namespace Rto.Server.Endpoints;

/// <summary>
/// Holds one endpoint to its <see cref="EndpointOptions.MaxConnections"/>: a connection beyond the
/// limit is closed as soon as it is accepted, before any protocol (raw TCP or HTTP) sees it, as
/// Kestrel's own connection limit does for the whole server. Counted as a <c>connection_limit</c>
/// error and logged at most once per interval.
/// </summary>
internal sealed partial class ConnectionLimit(string endpoint, int maxConnections, ServerInstruments.EndpointInstruments instruments, ILogger logger)
{
    private readonly LogThrottle _log = new();
    private int _open;

    /// <summary>The connection middleware; put it first, so that a refused connection is neither counted as opened nor logged as one.</summary>
    public ConnectionDelegate Wrap(ConnectionDelegate next) => connection => ServeAsync(connection, next);

    private async Task ServeAsync(ConnectionContext connection, ConnectionDelegate next)
    {
        if (Interlocked.Increment(ref _open) > maxConnections)
        {
            Interlocked.Decrement(ref _open);
            instruments.Errors("connection_limit");
            if (_log.ShouldLog(out long notLogged))
            {
                LogRefused(logger, endpoint, maxConnections, connection.RemoteEndPoint, notLogged);
            }

            await connection.Transport.Input.CompleteAsync();
            await connection.Transport.Output.CompleteAsync();
            return;
        }

        try
        {
            await next(connection);
        }
        finally
        {
            Interlocked.Decrement(ref _open);
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Endpoint}: the connection limit of {MaxConnections} is reached; a connection from {RemoteEndPoint} was closed at once ({NotLogged} more refused since the last message)")]
    private static partial void LogRefused(ILogger logger, string endpoint, int maxConnections, EndPoint? remoteEndPoint, long notLogged);
}
