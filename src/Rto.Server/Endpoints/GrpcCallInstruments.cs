using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Rto.Server.Endpoints;

/// <summary>
/// Counts every gRPC call, its failures by status code and its duration, tagged with the endpoint
/// (found from the local port) so the gRPC services show up beside the raw TCP protocols.
/// </summary>
internal sealed class GrpcCallInstruments(ServerInstruments instruments, ServerEndpoints endpoints) : Interceptor
{
    public override Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, () => continuation(request, context));

    public override Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, () => continuation(requestStream, context));

    public override Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, async () =>
        {
            await continuation(request, responseStream, context);
            return true;
        });

    public override Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation) =>
        ObserveAsync(context, async () =>
        {
            await continuation(requestStream, responseStream, context);
            return true;
        });

    /// <summary>
    /// ASP.NET Core's span of the request (present only while a tracer listens) is named after the
    /// gRPC method, with the OpenTelemetry RPC attributes, instead of the generic request name.
    /// </summary>
    private static void NameSpan(string method, string endpoint)
    {
        if (Activity.Current is not { IsAllDataRequested: true } span)
        {
            return;
        }

        // "/package.Service/Method"
        string name = method.TrimStart('/');
        int slash = name.LastIndexOf('/');
        span.DisplayName = name;
        span.SetTag("rpc.system", "grpc").SetTag("rpc.service", slash > 0 ? name[..slash] : name).SetTag("rpc.method", name[(slash + 1)..]).SetTag("rto.endpoint", endpoint);
    }

    private async Task<T> ObserveAsync<T>(ServerCallContext context, Func<Task<T>> call)
    {
        int port = context.GetHttpContext().Connection.LocalPort;
        ServerInstruments.EndpointInstruments endpoint = instruments.For(endpoints.NameOfPort(port) ?? "grpc");
        NameSpan(context.Method, endpoint.Name);
        endpoint.Requests(1);
        long started = endpoint.MeasuresDuration ? Stopwatch.GetTimestamp() : 0;
        try
        {
            return await call();
        }
        catch (Exception ex)
        {
            endpoint.Errors(ex switch
            {
                RpcException rpc => rpc.StatusCode.ToString(),
                OperationCanceledException => nameof(StatusCode.Cancelled),
                _ => nameof(StatusCode.Internal),
            });
            throw;
        }
        finally
        {
            endpoint.Duration(started);
        }
    }
}
