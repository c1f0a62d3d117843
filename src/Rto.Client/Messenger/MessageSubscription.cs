using System.Runtime.CompilerServices;
using Grpc.Core;
using Rto.Protocols.Messenger;

namespace Rto.Client.Messenger;

/// <summary>
/// An open <c>ReadMessages</c> stream, from <see cref="MessengerClient.SubscribeAsync"/>. A server
/// that confirms streams (the Rto server) has registered it before it is handed out, so every
/// message sent afterwards reaches it. It stays open however quiet the chat is, until the server
/// ends it or its connection is found dead. Dispose it to close the stream.
/// </summary>
public sealed class MessageSubscription : IDisposable
{
    private readonly AsyncServerStreamingCall<ReadMessagesResponse> _call;
    private readonly Uri _address;
    private volatile bool _disposed;

    internal MessageSubscription(AsyncServerStreamingCall<ReadMessagesResponse> call, Uri address)
    {
        _call = call;
        _address = address;
    }

    /// <summary>
    /// The messages as they arrive, in the order the server accepted them. Ends when the server
    /// ends the stream normally.
    /// </summary>
    /// <exception cref="MessengerClientException">The stream broke (<see cref="ClientErrorKind.ConnectionLost"/>, for example when the server stops) or fell behind (<see cref="ClientErrorKind.FellBehind"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled; the stream is closed.</exception>
    public async IAsyncEnumerable<ChatMessage> ReadAllAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        IAsyncStreamReader<ReadMessagesResponse> stream = _call.ResponseStream;
        while (true)
        {
            try
            {
                if (!await stream.MoveNext(cancellationToken).ConfigureAwait(false))
                {
                    yield break;
                }
            }
            catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
            {
                throw new OperationCanceledException("Reading messages was cancelled.", ex, cancellationToken);
            }
            catch (Exception ex) when (ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled } && !cancellationToken.IsCancellationRequested && !_disposed)
            {
                // grpc-dotnet reports a call whose connection died before any response headers
                // came (a quiet stream on a server that sends them late) as cancelled.
                throw new MessengerClientException(ClientErrorKind.ConnectionLost, StatusCode.Unavailable,
                    $"Reading messages at {_address} failed: the connection was lost before the server answered (it was closed, or stopped answering keep-alive pings).", ex);
            }
            catch (RpcException ex)
            {
                throw MessengerClientException.From(ex, "Reading messages", _address, stream: true);
            }

            ReadMessagesResponse message = stream.Current;
            yield return new ChatMessage(message.Author, message.Text, message.SendTime);
        }
    }

    /// <summary>Closes the stream (cancelling it if the server has not ended it).</summary>
    public void Dispose()
    {
        _disposed = true;
        _call.Dispose();
    }
}
