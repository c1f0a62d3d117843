using System.Globalization;
using System.Runtime.CompilerServices;
using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Rto.Protocols.Messenger;

namespace Rto.Client.Messenger;

/// <summary>
/// A client of the messenger gRPC service (<c>mes_grpc.MessengerServer</c>): send messages and
/// read the shared stream. Safe for concurrent use; calls share the channel's HTTP/2 connections,
/// and the channel reconnects by itself after the server comes back. Every failure surfaces as
/// <see cref="MessengerClientException"/>; sends never wait longer than
/// <see cref="MessengerClientOptions.RequestTimeout"/>.
/// </summary>
/// <example>
/// <code>
/// await using var client = await MessengerClient.ConnectAsync("localhost", 51075);
/// Timestamp sent = await client.SendAsync("alice", "hey");
/// await foreach (ChatMessage message in client.ReadAsync(cancellationToken))
/// {
///     Console.WriteLine($"{message.SendTimeText} {message.Author}: {message.Text}");
/// }
/// </code>
/// </example>
public sealed class MessengerClient : IAsyncDisposable, IDisposable
{
    /// <summary>The default port of the messenger endpoint.</summary>
    public const int DefaultPort = 51075;

    private readonly GrpcChannel? _ownedChannel;
    private readonly GrpcChannel _channel;
    private readonly MessengerServer.MessengerServerClient _grpc;
    private readonly MessengerClientOptions _options;

    /// <summary>
    /// Creates a client over an existing <paramref name="channel"/>, which the caller keeps
    /// owning: to share one channel between clients, or to start before the server is up (the
    /// channel connects on the first call). No connection is made here. A channel from
    /// <see cref="CreateChannel"/> pings a quiet connection as <paramref name="options"/> say;
    /// the keep-alive settings of any other channel are its own.
    /// </summary>
    public MessengerClient(GrpcChannel channel, MessengerClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _channel = channel;
        _options = options ?? new MessengerClientOptions();
        Address = GrpcAddress.Parse(channel.Target);
        _grpc = new MessengerServer.MessengerServerClient(channel);
    }

    private MessengerClient(GrpcChannel ownedChannel, Uri address, MessengerClientOptions options)
    {
        _ownedChannel = ownedChannel;
        _channel = ownedChannel;
        _options = options;
        Address = address;
        _grpc = new MessengerServer.MessengerServerClient(ownedChannel);
    }

    /// <summary>The server's address.</summary>
    public Uri Address { get; }

    /// <summary>Connects to the messenger endpoint at <paramref name="host"/>:<paramref name="port"/> (plaintext HTTP/2).</summary>
    /// <exception cref="MessengerClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="MessengerClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static Task<MessengerClient> ConnectAsync(string host, int port, MessengerClientOptions? options = null, CancellationToken cancellationToken = default) =>
        ConnectAsync(GrpcAddress.Create(host, port), options, cancellationToken);

    /// <summary>Connects to the messenger endpoint at <paramref name="address"/> (<c>http://</c> or <c>https://</c>; see <see cref="GrpcAddress.Parse"/>).</summary>
    /// <exception cref="MessengerClientException">The connection could not be made (<see cref="ClientErrorKind.ConnectFailed"/>) or not within <see cref="MessengerClientOptions.ConnectTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    /// <exception cref="OperationCanceledException"><paramref name="cancellationToken"/> was cancelled.</exception>
    public static async Task<MessengerClient> ConnectAsync(Uri address, MessengerClientOptions? options = null, CancellationToken cancellationToken = default)
    {
        options ??= new MessengerClientOptions();
        GrpcChannel channel = await GrpcDialer.ConnectAsync(
            CreateChannel(address, options),
            address,
            options.ConnectTimeout,
            (kind, message) => new MessengerClientException(kind, kind == ClientErrorKind.Timeout ? StatusCode.DeadlineExceeded : StatusCode.Unavailable, message),
            cancellationToken).ConfigureAwait(false);
        return new MessengerClient(channel, address, options);
    }

    /// <summary>
    /// Creates a channel to <paramref name="address"/> with the settings <see cref="ConnectAsync(Uri, MessengerClientOptions?, CancellationToken)"/>
    /// uses (connect timeout, keep-alive pings), without connecting: for a client that must start
    /// before the server is up (<see cref="MessengerClient(GrpcChannel, MessengerClientOptions?)"/>).
    /// The caller owns and disposes it.
    /// </summary>
    public static GrpcChannel CreateChannel(Uri address, MessengerClientOptions? options = null)
    {
        options ??= new MessengerClientOptions();
        return GrpcDialer.CreateChannel(address, options.ConnectTimeout, options.KeepAlivePingDelay, options.KeepAlivePingTimeout);
    }

    /// <summary>Sends a message; returns the send time the server assigned to it.</summary>
    /// <exception cref="MessengerClientException">The server went away (<see cref="ClientErrorKind.ConnectionLost"/>), did not answer in time (<see cref="ClientErrorKind.Timeout"/>) or refused the message (<see cref="ClientErrorKind.Rejected"/>).</exception>
    public async Task<Timestamp> SendAsync(string author, string text, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(author);
        ArgumentNullException.ThrowIfNull(text);
        try
        {
            SendMessageResponse reply = await _grpc.SendMessageAsync(
                new SendMessageRequest { Author = author, Text = text },
                deadline: DateTime.UtcNow + _options.RequestTimeout,
                cancellationToken: cancellationToken).ConfigureAwait(false);
            return reply.SendTime ?? throw new MessengerClientException(ClientErrorKind.ProtocolViolation, StatusCode.OK, $"The server at {Address} replied without a sendTime.");
        }
        catch (RpcException ex) when (ex.StatusCode == StatusCode.Cancelled && cancellationToken.IsCancellationRequested)
        {
            throw new OperationCanceledException("Sending was cancelled.", ex, cancellationToken);
        }
        catch (Exception ex) when (ex is OperationCanceledException or RpcException { StatusCode: StatusCode.Cancelled } && !cancellationToken.IsCancellationRequested)
        {
            // Not cancelled by the caller: grpc-dotnet reports a call whose connection died before
            // the reply's headers came as cancelled.
            throw new MessengerClientException(ClientErrorKind.ConnectionLost, StatusCode.Unavailable, $"Sending a message at {Address} failed: the connection was lost before the server answered.", ex);
        }
        catch (RpcException ex)
        {
            throw MessengerClientException.From(ex, "Sending a message", Address, stream: false);
        }
    }

    /// <summary>
    /// Opens a message stream. It returns once the server has confirmed the stream (its response
    /// headers; the Rto server sends them once the stream is registered, so every message sent
    /// after this completes, by anyone, arrives on it), or else after <see cref="MessengerClientOptions.OpenTimeout"/>
    /// with the connection up: servers that send headers only with the first message (grpc-python)
    /// give no earlier sign on a quiet chat. An open stream stays open however quiet it is; a dead
    /// connection under it is found by keep-alive pings (<see cref="MessengerClientOptions.KeepAlivePingDelay"/>)
    /// and ends the reading with <see cref="ClientErrorKind.ConnectionLost"/>.
    /// </summary>
    /// <exception cref="MessengerClientException">The server is unreachable or refused the stream, or the connection was still not up after <see cref="MessengerClientOptions.OpenTimeout"/> (<see cref="ClientErrorKind.Timeout"/>).</exception>
    public async Task<MessageSubscription> SubscribeAsync(CancellationToken cancellationToken = default)
    {
        AsyncServerStreamingCall<ReadMessagesResponse> call = _grpc.ReadMessages(new ReadMessagesRequest(), cancellationToken: CancellationToken.None);
        try
        {
            try
            {
                await call.ResponseHeadersAsync.WaitAsync(_options.OpenTimeout, cancellationToken).ConfigureAwait(false);
            }
            catch (TimeoutException) when (IsConnected())
            {
                // Open but not confirmed: the server may send its headers with the first message.
            }

            return new MessageSubscription(call, Address);
        }
        catch (TimeoutException ex)
        {
            call.Dispose();
            throw new MessengerClientException(ClientErrorKind.Timeout, StatusCode.DeadlineExceeded, string.Create(CultureInfo.InvariantCulture, $"Opening a message stream at {Address} timed out after {_options.OpenTimeout.TotalSeconds:0.###} s: the connection is not up."), ex);
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

    private bool IsConnected()
    {
        try
        {
            return _channel.State == ConnectivityState.Ready;
        }
        catch (InvalidOperationException)
        {
            // A channel over a handler that does not report its connection: nothing says the
            // stream is not open, and an open stream is taken as open.
            return true;
        }
    }

    /// <summary>Closes the channel if this client opened it; open subscriptions break.</summary>
    public void Dispose() => _ownedChannel?.Dispose();

    /// <summary>Closes the channel if this client opened it; open subscriptions break.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
