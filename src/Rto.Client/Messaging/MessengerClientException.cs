using Grpc.Core;

namespace Rto.Client.Messaging;

/// <summary>Why a messenger call failed.</summary>
public enum MessengerClientError
{
    /// <summary>
    /// The server could not be reached, dropped the connection, or is shutting down
    /// (gRPC <c>UNAVAILABLE</c>). Worth retrying later.
    /// </summary>
    Unavailable,

    /// <summary>No reply within <see cref="MessengerClientOptions.SendTimeout"/> or <see cref="MessengerClientOptions.OpenTimeout"/>.</summary>
    Timeout,

    /// <summary>
    /// The server closed the stream because its reader fell too far behind (gRPC
    /// <c>RESOURCE_EXHAUSTED</c> on a stream). Messages were missed; open a new stream to continue.
    /// </summary>
    FellBehind,

    /// <summary>The server refused the request, e.g. a message over its size limit.</summary>
    Rejected,

    /// <summary>Any other gRPC failure; <see cref="MessengerClientException.StatusCode"/> says which.</summary>
    ServerError,
}

/// <summary>
/// The single exception type of <see cref="MessengerClient"/> and <see cref="MessageSubscription"/>:
/// every failed call throws it, with the underlying <see cref="RpcException"/> as the inner exception.
/// Cancelling through a <see cref="CancellationToken"/> throws <see cref="OperationCanceledException"/> instead.
/// </summary>
public sealed class MessengerClientException : Exception
{
    /// <summary>Creates an exception for <paramref name="error"/>.</summary>
    public MessengerClientException(MessengerClientError error, StatusCode statusCode, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
        StatusCode = statusCode;
    }

    /// <summary>What went wrong.</summary>
    public MessengerClientError Error { get; }

    /// <summary>The gRPC status the call ended with.</summary>
    public StatusCode StatusCode { get; }

    internal static MessengerClientException From(RpcException ex, string operation, Uri address, bool stream)
    {
        MessengerClientError error = ex.StatusCode switch
        {
            StatusCode.Unavailable => MessengerClientError.Unavailable,
            StatusCode.DeadlineExceeded => MessengerClientError.Timeout,
            StatusCode.ResourceExhausted when stream => MessengerClientError.FellBehind,
            StatusCode.ResourceExhausted or StatusCode.InvalidArgument => MessengerClientError.Rejected,
            _ => MessengerClientError.ServerError,
        };
        string detail = string.IsNullOrEmpty(ex.Status.Detail) ? ex.StatusCode.ToString() : ex.Status.Detail.TrimEnd('.');
        if (ex.Status.DebugException?.GetBaseException() is { } cause && !detail.Contains(cause.Message, StringComparison.Ordinal))
        {
            // e.g. "Error connecting to subchannel" says less than the socket's "Connection refused".
            detail += $" ({cause.Message})";
        }

        return new MessengerClientException(error, ex.StatusCode, $"{operation} at {address} failed ({ex.StatusCode}): {detail}", ex);
    }
}
