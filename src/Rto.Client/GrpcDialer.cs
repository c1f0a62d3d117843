using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;

namespace Rto.Client;

/// <summary>Opens the channels of the gRPC clients: the same handler settings, and a connect that fails fast like a TCP one.</summary>
internal static class GrpcDialer
{
    /// <summary>
    /// Creates a channel to <paramref name="address"/> and waits until it is connected. A server
    /// that refuses (or a name that does not resolve) is thrown as <paramref name="failure"/> with
    /// <see cref="ClientErrorKind.ConnectFailed"/> as soon as the channel reports it, a connect
    /// slower than <paramref name="timeout"/> with <see cref="ClientErrorKind.Timeout"/>.
    /// </summary>
    public static async Task<GrpcChannel> ConnectAsync(Uri address, TimeSpan timeout, Func<ClientErrorKind, string, ClientException> failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(timeout, TimeSpan.Zero);
        GrpcChannel channel = GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = timeout,
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            },
            ThrowOperationCanceledOnCancellation = true,
        });
        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        deadline.CancelAfter(timeout);
        try
        {
            // ConnectAsync only completes on Ready; a refused connect shows as TransientFailure
            // while the channel backs off and retries, so the state is watched instead.
            _ = channel.ConnectAsync(deadline.Token).ContinueWith(static t => _ = t.Exception, TaskScheduler.Default);
            ConnectivityState state = channel.State;
            while (state != ConnectivityState.Ready)
            {
                if (state is ConnectivityState.TransientFailure or ConnectivityState.Shutdown)
                {
                    throw failure(ClientErrorKind.ConnectFailed, $"Could not connect to {address}: the connection was refused or the host is unreachable.");
                }

                await channel.WaitForStateChangedAsync(state, deadline.Token).ConfigureAwait(false);
                state = channel.State;
            }

            return channel;
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested)
        {
            channel.Dispose();
            throw failure(ClientErrorKind.Timeout, string.Create(CultureInfo.InvariantCulture, $"Connecting to {address} timed out after {timeout.TotalSeconds:0.###} s."));
        }
        catch
        {
            channel.Dispose();
            throw;
        }
    }
}
