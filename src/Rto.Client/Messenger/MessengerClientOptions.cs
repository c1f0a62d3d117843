namespace Rto.Client.Messenger;

/// <summary>Settings of a <see cref="MessengerClient"/>.</summary>
public sealed class MessengerClientOptions
{
    /// <summary>How long connecting may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The deadline of one <see cref="MessengerClient.SendAsync"/>. Default 5 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long <see cref="MessengerClient.SubscribeAsync"/> waits for the server to confirm a new
    /// stream. Default 5 s. The Rto server confirms at once; servers that send their response
    /// headers only with the first message (grpc-python's, e.g. the original course servers)
    /// never do on a quiet chat, so after this wait a stream whose connection is up counts as
    /// open. Only a connection that is still not up after it makes the open fail.
    /// </summary>
    public TimeSpan OpenTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>
    /// How long a connection with an open stream may stay silent before the client pings the
    /// server (HTTP/2 PING) to check it is still there. Default 5 min: gRPC servers built on
    /// C-core (grpc-python and others) close a connection pinged more often than every 5 minutes
    /// while they send nothing (<c>GOAWAY too_many_pings</c>), which would break a quiet stream.
    /// Against the Rto server, which accepts pings at any rate, a shorter delay notices a dead
    /// server sooner.
    /// </summary>
    public TimeSpan KeepAlivePingDelay { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>
    /// How long a keep-alive ping may go unanswered before the connection counts as dead: its
    /// streams then fail with <see cref="ClientErrorKind.ConnectionLost"/>. Default 30 s.
    /// </summary>
    public TimeSpan KeepAlivePingTimeout { get; set; } = TimeSpan.FromSeconds(30);
}
