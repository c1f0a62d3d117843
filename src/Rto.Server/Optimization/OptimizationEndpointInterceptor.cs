using Grpc.Core;
using Grpc.Core.Interceptors;
using Rto.Server.Endpoints;

namespace Rto.Server.Optimization;

/// <summary>
/// Serves the optimization services on the <c>optimization</c> endpoint only. ASP.NET Core maps gRPC
/// services on every HTTP/2 listener, so without this check they would also answer on the messenger port,
/// which listens on every interface by default — around the loopback default of <see cref="OptimizationOptions.Address"/>.
/// </summary>
internal sealed class OptimizationEndpointInterceptor(ServerEndpoints endpoints) : Interceptor
{
    private int _port;

    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        // The real port of a port-0 listener is known only once Kestrel has bound it.
        int port = _port != 0 ? _port : _port = endpoints.GetEndPoint(EndpointNames.Optimization).Port;
        if (context.GetHttpContext().Connection.LocalPort != port)
        {
            throw new RpcException(new Status(StatusCode.Unimplemented, $"the optimization services are served on the {EndpointNames.Optimization} endpoint (port {port}) only"));
        }

        return continuation(request, context);
    }
}
