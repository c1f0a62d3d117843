using System.Globalization;
using Grpc.Core;
using Grpc.Net.Client;

namespace Rto.Client;

/// <summary>Opens the channels of the gRPC clients: the same handler settings, and a connect that fails fast like a TCP one.</summary>
internal static class GrpcDialer
{
    /// <summary>The keep-alive pings of a client whose calls are short: one every minute of silence.</summary>
    public static readonly TimeSpan DefaultKeepAlivePingDelay = TimeSpan.FromSeconds(60);

    /// <summary>How long a keep-alive ping may go unanswered before the connection counts as dead.</summary>
    public static readonly TimeSpan DefaultKeepAlivePingTimeout = TimeSpan.FromSeconds(30);

    /// <summary>
    /// Creates a channel to <paramref name="address"/> without connecting. While a call is open,
    /// a connection that has received nothing for <paramref name="keepAlivePingDelay"/> is pinged,
    /// and one whose ping goes unanswered for <paramref name="keepAlivePingTimeout"/> is closed,
    /// failing its calls: that is how a dead server behind a quiet stream is noticed.
    /// </summary>
    public static GrpcChannel CreateChannel(Uri address, TimeSpan connectTimeout, TimeSpan keepAlivePingDelay, TimeSpan keepAlivePingTimeout)
    {
        ArgumentNullException.ThrowIfNull(address);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(connectTimeout, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(keepAlivePingDelay, TimeSpan.Zero);
        ArgumentOutOfRangeException.ThrowIfLessThanOrEqual(keepAlivePingTimeout, TimeSpan.Zero);
        return GrpcChannel.ForAddress(address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = connectTimeout,
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = keepAlivePingDelay,
                KeepAlivePingTimeout = keepAlivePingTimeout,
                // Only while calls are open: gRPC servers (C-core) answer pings on a connection
                // without calls by closing it once a few arrived within two hours.
                KeepAlivePingPolicy = HttpKeepAlivePingPolicy.WithActiveRequests,
            },
            ThrowOperationCanceledOnCancellation = true,
        });
    }

    /// <summary>
    /// Creates a channel to <paramref name="address"/> (keep-alive pings every minute of
    /// silence) and waits until it is connected; see <see cref="ConnectAsync(GrpcChannel, Uri, TimeSpan, Func{ClientErrorKind, string, ClientException}, CancellationToken)"/>.
    /// </summary>
    public static Task<GrpcChannel> ConnectAsync(Uri address, TimeSpan timeout, Func<ClientErrorKind, string, ClientException> failure, CancellationToken cancellationToken) =>
        ConnectAsync(CreateChannel(address, timeout, DefaultKeepAlivePingDelay, DefaultKeepAlivePingTimeout), address, timeout, failure, cancellationToken);

    /// <summary>
    /// Waits until <paramref name="channel"/> is connected, or disposes it and throws. A server
    /// that refuses (or a name that does not resolve) is thrown as <paramref name="failure"/> with
    /// <see cref="ClientErrorKind.ConnectFailed"/> as soon as the channel reports it, a connect
    /// slower than <paramref name="timeout"/> with <see cref="ClientErrorKind.Timeout"/>.
    /// </summary>
    public static async Task<GrpcChannel> ConnectAsync(GrpcChannel channel, Uri address, TimeSpan timeout, Func<ClientErrorKind, string, ClientException> failure, CancellationToken cancellationToken)
    {
        ArgumentNullException.ThrowIfNull(channel);
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
