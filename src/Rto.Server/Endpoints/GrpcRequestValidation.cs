using System.Collections.Concurrent;
using Google.Protobuf;
using Grpc.AspNetCore.Server;
using Grpc.Core;

namespace Rto.Server.Endpoints;

/// <summary>
/// Makes a gRPC request whose bytes are not the method's protobuf message the caller's mistake, as
/// it is: <c>INVALID_ARGUMENT</c> saying what is wrong, where grpc-dotnet would answer <c>UNKNOWN</c>
/// "Exception was thrown by handler" and log an error with a stack trace for every such call.
/// </summary>
/// <remarks>
/// grpc-dotnet reads a unary or server-streaming request before any interceptor runs, so the check
/// sits in the request's deserializer: a service binds its generated methods through
/// <see cref="Validating"/> (its own <c>[BindServiceMethod]</c>), and <see cref="GrpcInvalidRequestLog"/>
/// counts and logs what the deserializer refused.
/// </remarks>
internal static class GrpcRequestValidation
{
    /// <summary>A binder that gives every method bound through it a request deserializer refusing invalid protobuf with <c>INVALID_ARGUMENT</c>.</summary>
    public static ServiceBinderBase Validating(ServiceBinderBase binder) => new ValidatingBinder(binder);

    /// <summary>True when <paramref name="status"/> is the refusal of a request that was not valid protobuf.</summary>
    public static bool IsInvalidRequest(Status status) =>
        status.StatusCode == StatusCode.InvalidArgument && status.DebugException is InvalidProtocolBufferException;

    private static Method<TRequest, TResponse> Validated<TRequest, TResponse>(Method<TRequest, TResponse> method)
        where TRequest : class
        where TResponse : class
    {
        Func<DeserializationContext, TRequest> deserialize = method.RequestMarshaller.ContextualDeserializer;
        string message = typeof(TRequest).Name;
        var requests = new Marshaller<TRequest>(
            method.RequestMarshaller.ContextualSerializer,
            context =>
            {
                try
                {
                    return deserialize(context);
                }
                catch (InvalidProtocolBufferException ex)
                {
                    // The exception rides along as the status's debug exception, which never reaches
                    // the client: GrpcInvalidRequestLog recognises the refusal by it.
                    throw new RpcException(new Status(StatusCode.InvalidArgument, $"The request is not a valid {message} message: {ex.Message}", ex));
                }
            });
        return new Method<TRequest, TResponse>(method.Type, method.ServiceName, method.Name, requests, method.ResponseMarshaller);
    }

    private sealed class ValidatingBinder(ServiceBinderBase inner) : ServiceBinderBase
    {
        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, UnaryServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Validated(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ClientStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Validated(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, ServerStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Validated(method), handler);

        public override void AddMethod<TRequest, TResponse>(Method<TRequest, TResponse> method, DuplexStreamingServerMethod<TRequest, TResponse>? handler) =>
            inner.AddMethod(Validated(method), handler);
    }
}

/// <summary>
/// Counts each gRPC request refused by <see cref="GrpcRequestValidation"/> as an <c>invalid_message</c>
/// error of its endpoint and logs it at most once per interval per endpoint, with how many were not
/// logged. (gRPC's own line for every such call is at Information level, which appsettings.json
/// turns off for its category.)
/// </summary>
internal sealed partial class GrpcInvalidRequestLog(RequestDelegate next, ServerInstruments instruments, ServerEndpoints endpoints, ILogger<GrpcInvalidRequestLog> logger)
{
    private readonly ConcurrentDictionary<string, LogThrottle> _throttles = new(StringComparer.Ordinal);

    public async Task InvokeAsync(HttpContext context)
    {
        await next(context);

        // Every current method reads its one request before the service runs, so no interceptor has
        // counted this call: it is counted here, once.
        if (context.Features.Get<IServerCallContextFeature>()?.ServerCallContext.Status is { } status && GrpcRequestValidation.IsInvalidRequest(status))
        {
            string endpoint = endpoints.NameOfPort(context.Connection.LocalPort) ?? "grpc";
            instruments.For(endpoint).Errors("invalid_message");
            if (_throttles.GetOrAdd(endpoint, static _ => new LogThrottle()).ShouldLog(out long notLogged))
            {
                LogInvalid(logger, endpoint, context.Request.Path.Value, context.Connection.RemoteIpAddress?.ToString(), status.Detail, notLogged);
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Endpoint}: a {Method} request from {RemoteAddress} was answered INVALID_ARGUMENT: {Detail} ({NotLogged} more since the last message)")]
    private static partial void LogInvalid(ILogger logger, string endpoint, string? method, string? remoteAddress, string detail, long notLogged);
}
