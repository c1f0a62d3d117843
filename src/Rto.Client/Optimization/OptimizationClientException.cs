using Grpc.Core;

namespace Rto.Client.Optimization;

/// <summary>
/// The single exception type of <see cref="OptimizationClient"/>: the server refused a call (an
/// invalid start, an unknown session, a wrong access token: <see cref="ClientErrorKind.Rejected"/>)
/// or could not be reached. <see cref="Exception.Message"/> carries the server's own message.
/// </summary>
public sealed class OptimizationClientException : ClientException
{
    /// <summary>Creates an exception of kind <paramref name="errorKind"/>.</summary>
    public OptimizationClientException(ClientErrorKind errorKind, StatusCode statusCode, string message, Exception? innerException = null)
        : base(errorKind, message, innerException)
    {
        StatusCode = statusCode;
    }

    /// <summary>The gRPC status when the call itself failed (e.g. <c>PermissionDenied</c>); <c>OK</c> when the server answered with a refusal.</summary>
    public StatusCode StatusCode { get; }

    internal static OptimizationClientException From(RpcException ex)
    {
        ClientErrorKind kind = ex.StatusCode switch
        {
            StatusCode.Unavailable => ClientErrorKind.ConnectionLost,
            StatusCode.DeadlineExceeded => ClientErrorKind.Timeout,
            StatusCode.PermissionDenied or StatusCode.Unauthenticated or StatusCode.InvalidArgument or StatusCode.NotFound
                or StatusCode.FailedPrecondition or StatusCode.ResourceExhausted or StatusCode.AlreadyExists => ClientErrorKind.Rejected,
            _ => ClientErrorKind.ServerError,
        };
        return new OptimizationClientException(kind, ex.StatusCode, ex.Status.Detail.Length != 0 ? ex.Status.Detail : ex.StatusCode.ToString(), ex);
    }
}
