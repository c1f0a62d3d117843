using Grpc.Core;

namespace Rto.Client.Messenger;

/// <summary>
/// The single exception type of <see cref="MessengerClient"/> and <see cref="MessageSubscription"/>:
/// every failed call throws it, with the underlying <see cref="RpcException"/> (if any) as the inner exception.
/// </summary>
public sealed class MessengerClientException : ClientException
{
    /// <summary>Creates an exception of kind <paramref name="errorKind"/>.</summary>
    public MessengerClientException(ClientErrorKind errorKind, StatusCode statusCode, string message, Exception? innerException = null)
        : base(errorKind, message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The gRPC status the call ended with (<c>OK</c> when the failure was not a gRPC status).</summary>
    public StatusCode StatusCode { get; }

    internal static MessengerClientException From(RpcException ex, string operation, Uri address, bool stream)
    {
        ClientErrorKind kind = ex.StatusCode switch
        {
            StatusCode.Unavailable => ClientErrorKind.ConnectionLost,
            StatusCode.DeadlineExceeded => ClientErrorKind.Timeout,
            StatusCode.ResourceExhausted when stream => ClientErrorKind.FellBehind,
            StatusCode.ResourceExhausted or StatusCode.InvalidArgument => ClientErrorKind.Rejected,
            _ => ClientErrorKind.ServerError,
        };
        string detail = string.IsNullOrEmpty(ex.Status.Detail) ? ex.StatusCode.ToString() : ex.Status.Detail.TrimEnd('.');
        if (ex.Status.DebugException?.GetBaseException() is { } cause && !detail.Contains(cause.Message, StringComparison.Ordinal))
        {
            // e.g. "Error connecting to subchannel" says less than the socket's "Connection refused".
            detail += $" ({cause.Message})";
        }

        return new MessengerClientException(kind, ex.StatusCode, $"{operation} at {address} failed ({ex.StatusCode}): {detail}", ex);
    }
}
