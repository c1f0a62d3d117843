using System.IO.Pipelines;
using System.Net;
using System.Runtime.CompilerServices;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Rto.Server.Hosting;

/// <summary>
/// What every raw TCP connection handler does the same way: notice Kestrel's request to close
/// (server shutdown), and log a connection opening and closing with its endpoint and peer.
/// </summary>
internal static partial class ConnectionLifetime
{
    /// <summary>Cancelled when the server asks the connection to finish (for example on SIGTERM).</summary>
    public static CancellationToken CloseRequested(this ConnectionContext connection) =>
        connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;

    /// <summary>Reads the next bytes, or returns null once the server has asked the connection to close.</summary>
    /// <remarks>Pooled builder: a read that has to wait does not allocate a state machine per batch.</remarks>
    [AsyncMethodBuilder(typeof(PoolingAsyncValueTaskMethodBuilder<>))]
    public static async ValueTask<ReadResult?> ReadUnlessClosingAsync(this PipeReader input, CancellationToken closing)
    {
        try
        {
            return await input.ReadAsync(closing);
        }
        catch (OperationCanceledException) when (closing.IsCancellationRequested)
        {
            return null;
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Endpoint} connection {ConnectionId} opened from {RemoteEndPoint}")]
    public static partial void LogOpened(ILogger logger, string endpoint, string connectionId, EndPoint? remoteEndPoint);

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Endpoint} connection {ConnectionId} from {RemoteEndPoint} closed")]
    public static partial void LogClosed(ILogger logger, string endpoint, string connectionId, EndPoint? remoteEndPoint);
}
