using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Pipelines.Sockets.Unofficial;

namespace Rto.Client;

/// <summary>Opens the TCP connections of the raw-protocol clients: one connect with a timeout, failures in the client's own exception type.</summary>
internal static class TcpDialer
{
    /// <summary>An IP address as an <see cref="IPEndPoint"/>, anything else as a <see cref="DnsEndPoint"/>.</summary>
    public static EndPoint ToEndPoint(string host, int port)
    {
        ArgumentException.ThrowIfNullOrEmpty(host);
        return IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);
    }

    /// <summary>
    /// Connects to <paramref name="endPoint"/> within <paramref name="timeout"/>. A timeout or a refused
    /// connection is thrown as <paramref name="failure"/>(kind, message, inner) with kind
    /// <see cref="ClientErrorKind.Timeout"/> or <see cref="ClientErrorKind.ConnectFailed"/>;
    /// cancellation by <paramref name="cancellationToken"/> stays an <see cref="OperationCanceledException"/>.
    /// </summary>
    public static async Task<SocketConnection> ConnectAsync(EndPoint endPoint, TimeSpan timeout, Func<ClientErrorKind, string, Exception?, ClientException> failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(endPoint);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            await socket.ConnectAsync(endPoint, deadline.Token).ConfigureAwait(false);
            return SocketConnection.Create(socket);
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            socket.Dispose();
            throw failure(ClientErrorKind.Timeout, string.Create(CultureInfo.InvariantCulture, $"Connecting to {endPoint} timed out after {timeout.TotalSeconds:0.###} s."), null);
        }
        catch (SocketException ex)
        {
            socket.Dispose();
            throw failure(ClientErrorKind.ConnectFailed, $"Could not connect to {endPoint}: {ex.Message}", ex);
        }
        catch
        {
            socket.Dispose();
            throw;
        }
    }
}
