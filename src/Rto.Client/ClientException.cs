namespace Rto.Client;

/// <summary>Why a client call failed: one set for every Rto client.</summary>
public enum ClientErrorKind
{
    /// <summary>
    /// The connection could not be made: refused, unreachable, or the name did not resolve.
    /// Only <c>ConnectAsync</c> reports it.
    /// </summary>
    ConnectFailed,

    /// <summary>No connection or no reply within the client's <c>ConnectTimeout</c> or <c>RequestTimeout</c> (gRPC <c>DEADLINE_EXCEEDED</c>).</summary>
    Timeout,

    /// <summary>
    /// The server closed or reset the connection, or is shutting down (gRPC <c>UNAVAILABLE</c>
    /// after the connection was made). A TCP client is unusable afterwards; a gRPC client
    /// reconnects on its next call.
    /// </summary>
    ConnectionLost,

    /// <summary>
    /// The server understood the request and refused it: a metrics <c>error</c> reply, a message
    /// over the messenger's size limit, an RTO session that is unknown or a definition it does
    /// not accept, a wrong access token.
    /// </summary>
    Rejected,

    /// <summary>The server's reply is not the protocol's: unknown status, not JSON, too large, a missing member.</summary>
    ProtocolViolation,

    /// <summary>
    /// The server closed a stream because its reader fell too far behind (messenger, gRPC
    /// <c>RESOURCE_EXHAUSTED</c> on a stream). Messages were missed; open a new stream to continue.
    /// </summary>
    FellBehind,

    /// <summary>Any other failure reported by the server (gRPC <c>INTERNAL</c>, <c>UNKNOWN</c>, …); the message says which.</summary>
    ServerError,
}

/// <summary>
/// The base of every Rto client's exception: each client throws only its own
/// <c>…ClientException</c>, with an <see cref="ErrorKind"/> from the one set all clients share.
/// Cancelling through a <see cref="CancellationToken"/> throws <see cref="OperationCanceledException"/>
/// instead, and invalid arguments throw <see cref="ArgumentException"/> before anything is sent.
/// </summary>
public abstract class ClientException : Exception
{
    /// <summary>Creates an exception of kind <paramref name="errorKind"/>.</summary>
    protected ClientException(ClientErrorKind errorKind, string message, Exception? innerException)
        : base(message, innerException)
    {
        ErrorKind = errorKind;
    }

    /// <summary>What went wrong.</summary>
    public ClientErrorKind ErrorKind { get; }
}
