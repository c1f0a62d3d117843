using Grpc.Core;

namespace Rto.Client.Optimization;

/// <summary>
/// An RTO call failed: the server refused it (an invalid start, an unknown session, a wrong access
/// token) or could not be reached. <see cref="Exception.Message"/> carries the server's own message.
/// </summary>
public sealed class RtoClientException : Exception
{
    /// <summary>Creates an exception with no details.</summary>
    public RtoClientException()
    {
    }

    /// <summary>Creates an exception with a message.</summary>
    public RtoClientException(string message)
        : base(message)
    {
    }

    /// <summary>Creates an exception with a message and its cause.</summary>
    public RtoClientException(string message, Exception innerException)
        : base(message, innerException)
    {
        StatusCode = (innerException as RpcException)?.StatusCode ?? StatusCode.OK;
    }

    /// <summary>The gRPC status when the call itself failed (e.g. <c>PermissionDenied</c>); <c>OK</c> when the server answered with a refusal.</summary>
    public StatusCode StatusCode { get; }
}
