using System.Runtime.CompilerServices;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Rto.Protocols.Messaging;

namespace Rto.Client.Messaging;

/// <summary>
/// A client of the messenger gRPC service (<c>mes_grpc.MessengerServer</c>): send messages and
/// read the shared stream. Safe for concurrent use; calls share the channel's HTTP/2 connections.
/// Every failure surfaces as <see cref="MessengerClientException"/>; sends never wait longer than
/// <see cref="MessengerClientOptions.SendTimeout"/>.
/// </summary>
/// <example>
/// <code>
/// using var client = new MessengerClient("localhost:51075");
/// Timestamp sent = await client.SendAsync("alice", "hey");
/// await foreach (ChatMessage message in client.ReadAsync(cancellationToken))
/// {
///     Console.WriteLine($"{message.SendTimeText} {message.Author}: {message.Text}");
/// }
/// </code>
/// </example>
public sealed class MessengerClient : IDisposable
{
    private readonly GrpcChannel? _ownedChannel;
    private readonly MessengerServer.MessengerServerClient _grpc;
    private readonly MessengerClientOptions _options;

    /// <summary>
    /// Creates a client of the server at <paramref name="address"/>: <c>host:port</c> (plaintext
    /// HTTP/2, as in <c>MESSENGER_SERVER_ADDR</c>) or a URL such as <c>http://host:port</c>.
    /// No connection is made until the first call.
    /// </summary>
    public MessengerClient(string address, MessengerClientOptions? options = null)
    {
        _options = options ?? new MessengerClientOptions();
        Address = ParseAddress(address);
        _ownedChannel = GrpcChannel.ForAddress(Address, new GrpcChannelOptions
        {
            HttpHandler = new SocketsHttpHandler
            {
                ConnectTimeout = _options.ConnectTimeout,
                EnableMultipleHttp2Connections = true,
                PooledConnectionIdleTimeout = Timeout.InfiniteTimeSpan,
                KeepAlivePingDelay = TimeSpan.FromSeconds(60),
                KeepAlivePingTimeout = TimeSpan.FromSeconds(30),
            },
            ThrowOperationCanceledOnCancellation = true,
        });
        _grpc = new MessengerServer.MessengerServerClient(_ownedChannel);
    }

    /// <summary>Creates a client over an existing <paramref name="channel"/>, which the caller keeps owning.</summary>
    public MessengerClient(GrpcChannel channel, MessengerClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _options = options ?? new MessengerClientOptions();
        Address = new Uri(channel.Target.Contains("://", StringComparison.Ordinal) ? channel.Target : "http://" + channel.Target);
        _grpc = new MessengerServer.MessengerServerClient(channel);
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    /// <summary>
    /// Turns <c>host:port</c> into <c>http://host:port</c>; a string with a scheme is used as it is.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not a valid address.</exception>
    public static Uri ParseAddress(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        string text = address.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{address}' is not a messenger server address (host:port or http://host:port).", nameof(address));
        }

        return uri;
    }

    /// <summary>Sends a message; returns the send time the server assigned to it.</summary>
    /// <exception cref="MessengerClientException">The server is unreachable (<see cref="MessengerClientError.Unavailable"/>), did not answer in time (<see cref="MessengerClientError.Timeout"/>) or refused the message.</exception>
    public async Task<Timestamp> SendAsync(string author, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(author);
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            SendMessageResponse reply = await _grpc.SendMessageAsync(
                new SendMessageRequest { Author = author, Text = text },
                deadline: DateTime.UtcNow + _options.SendTimeout,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return reply.SendTime ?? throw new MessengerClientException(MessengerClientError.ServerError, StatusCode.OK, $"The server at {Address} replied without a sendTime.");
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("Sending was cancelled.", ex, cancellationToken);
        }
        catch (RpcException ex)
        {
            throw MessengerClientException.From(ex, "Sending a message", Address, stream: false);
        }
    }

    /// <summary>
    /// Opens a message stream and waits until the server has registered it: every message sent
    /// after this completes (by anyone) will arrive on the returned subscription.
    /// </summary>
    /// <exception cref="MessengerClientException">The server is unreachable, or did not open the stream within <see cref="MessengerClientOptions.OpenTimeout"/>.</exception>
    public async Task<MessageSubscription> SubscribeAsync(CancellationToken cancellationToken = default)
    {
        AsyncServerStreamingCall<ReadMessagesResponse> call = _grpc.ReadMessages(new ReadMessagesRequest(), cancellationToken: CancellationToken.None);
        try
        {
            // The server sends the response headers once the stream is registered.
            await call.ResponseHeadersAsync.WaitAsync(_options.OpenTimeout, cancellationToken).ConfigureAwait(false);
            return new MessageSubscription(call, Address);
        }
        catch (TimeoutException ex)
        {
            call.Dispose();
            throw new MessengerClientException(MessengerClientError.Timeout, StatusCode.DeadlineExceeded, $"Opening a message stream at {Address} timed out after {_options.OpenTimeout.TotalSeconds:0.###} s.", ex);
        }
        catch (RpcException ex)
        {
            call.Dispose();
            throw MessengerClientException.From(ex, "Opening a message stream", Address, stream: true);
        }
        catch
        {
            call.Dispose();
            throw;
        }
    }

    /// <summary>
    /// Opens a stream and yields its messages until <paramref name="cancellationToken"/> is
    /// cancelled or the stream ends. Does not reconnect: a broken stream throws.
    /// </summary>
    /// <exception cref="MessengerClientException">The stream could not be opened, or broke.</exception>
    public async IAsyncEnumerable<ChatMessage> ReadAsync([EnumeratorCancellation] CancellationToken cancellationToken = default)
    {
        using MessageSubscription subscription = await SubscribeAsync(cancellationToken).ConfigureAwait(false);
        await foreach (ChatMessage message in subscription.ReadAllAsync(cancellationToken).ConfigureAwait(false))
        {
            yield return message;
        }
    }

    /// <summary>Disposes the channel if this client created it; open subscriptions break.</summary>
    public void Dispose() => _ownedChannel?.Dispose();
}
