using System.Diagnostics;
using Grpc.Core;
using Grpc.Core.Interceptors;

namespace Rto.Server.Hosting;

/// <summary>
/// Counts every gRPC call, its failures by status code and its duration, tagged with the endpoint
/// (found from the local port) so the gRPC services show up beside the raw TCP protocols.
/// </summary>
internal sealed class GrpcCallInstruments(ServerInstruments instruments, RtoEndpoints endpoints) : Interceptor
{
    public override async Task<TResponse> UnaryServerHandler<TRequest, TResponse>(TRequest request, ServerCallContext context, UnaryServerMethod<TRequest, TResponse> continuation)
    {
        ServerInstruments.EndpointInstruments endpoint = Begin(context, out long started);
        try
        {
            return await continuation(request, context);
        }
        catch (Exception ex)
        {
            endpoint.Errors(Reason(ex));
            throw;
        }
        finally
        {
            endpoint.Duration(started);
        }
    }

    public override async Task ServerStreamingServerHandler<TRequest, TResponse>(TRequest request, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, ServerStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ServerInstruments.EndpointInstruments endpoint = Begin(context, out long started);
        try
        {
            await continuation(request, responseStream, context);
        }
        catch (Exception ex)
        {
            endpoint.Errors(Reason(ex));
            throw;
        }
        finally
        {
            endpoint.Duration(started);
        }
    }

    public override async Task<TResponse> ClientStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, ServerCallContext context, ClientStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ServerInstruments.EndpointInstruments endpoint = Begin(context, out long started);
        try
        {
            return await continuation(requestStream, context);
        }
        catch (Exception ex)
        {
            endpoint.Errors(Reason(ex));
            throw;
        }
        finally
        {
            endpoint.Duration(started);
        }
    }

    public override async Task DuplexStreamingServerHandler<TRequest, TResponse>(IAsyncStreamReader<TRequest> requestStream, IServerStreamWriter<TResponse> responseStream, ServerCallContext context, DuplexStreamingServerMethod<TRequest, TResponse> continuation)
    {
        ServerInstruments.EndpointInstruments endpoint = Begin(context, out long started);
        try
        {
            await continuation(requestStream, responseStream, context);
        }
        catch (Exception ex)
        {
            endpoint.Errors(Reason(ex));
            throw;
        }
        finally
        {
            endpoint.Duration(started);
        }
    }

    private ServerInstruments.EndpointInstruments Begin(ServerCallContext context, out long started)
    {
        int port = context.GetHttpContext().Connection.LocalPort;
        ServerInstruments.EndpointInstruments endpoint = instruments.For(endpoints.NameOfPort(port) ?? "grpc");
        endpoint.Requests(1);
        started = endpoint.MeasuresDuration ? Stopwatch.GetTimestamp() : 0;
        return endpoint;
    }

    private static string Reason(Exception ex) => ex switch
    {
        RpcException rpc => rpc.StatusCode.ToString(),
        OperationCanceledException => nameof(StatusCode.Cancelled),
        _ => nameof(StatusCode.Internal),
    };
}
