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
    private readonly MessengerServer.MessengerServerClient _grpc;
    private readonly MessengerClientOptions _options;

    /// <summary>
    /// Creates a client over an existing <paramref name="channel"/>, which the caller keeps
    /// owning: to share one channel between clients, or to start before the server is up (the
    /// channel connects on the first call). No connection is made here.
    /// </summary>
    public MessengerClient(GrpcChannel channel, MessengerClientOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(channel);
        _options = options ?? new MessengerClientOptions();
        Address = GrpcAddress.Parse(channel.Target);
        _grpc = new MessengerServer.MessengerServerClient(channel);
    }

    private MessengerClient(GrpcChannel ownedChannel, Uri address, MessengerClientOptions options)
    {
        _ownedChannel = ownedChannel;
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
            address,
            options.ConnectTimeout,
            (kind, message) => new MessengerClientException(kind, kind == ClientErrorKind.Timeout ? StatusCode.DeadlineExceeded : StatusCode.Unavailable, message),
            cancellationToken).ConfigureAwait(false);
        return new MessengerClient(channel, address, options);
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
            throw new MessengerClientException(ClientErrorKind.Timeout, StatusCode.DeadlineExceeded, string.Create(CultureInfo.InvariantCulture, $"Opening a message stream at {Address} timed out after {_options.OpenTimeout.TotalSeconds:0.###} s."), ex);
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

    /// <summary>Closes the channel if this client opened it; open subscriptions break.</summary>
    public void Dispose() => _ownedChannel?.Dispose();

    /// <summary>Closes the channel if this client opened it; open subscriptions break.</summary>
    public ValueTask DisposeAsync()
    {
        Dispose();
        return ValueTask.CompletedTask;
    }
}
