using Grpc.Core;
using Grpc.Core.Interceptors;
using Rto.Server.Hosting;

namespace Rto.Server.Optimization;

/// <summary>
/// Serves the RTO services on the <c>rto</c> endpoint only. ASP.NET Core maps gRPC services on every
/// HTTP/2 listener, so without this check the RTO services would also answer on the messenger port,
/// which listens on every interface by default — around the loopback default of <see cref="RtoOptions.Address"/>.
/// </summary>
internal sealed class RtoEndpointInterceptor(RtoEndpoints endpoints) : Interceptor
{
    private int _port;

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // The real port of a port-0 listener is known only once Kestrel has bound it.
        int port = _port != 0 ? _port : _port = endpoints.GetEndPoint("rto").Port;
        if (context.GetHttpContext().Connection.LocalPort != port)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"the RTO services are served on the rto endpoint (port {port}) only"));
        }

        return continuation(request, context);
    }
}
