using Grpc.Core;
using Grpc.RtoApi;
using Microsoft.Extensions.Options;
using Rto.Server.Endpoints;

namespace Rto.Server.Optimization;

/// <summary>The <c>Grpc.RtoApi.RtoService</c> gRPC service: a thin shell over <see cref="SessionStore"/>.</summary>
[BindServiceMethod(typeof(OptimizationGrpcService), nameof(BindService))]
internal sealed class OptimizationGrpcService(SessionStore sessions, IOptions<OptimizationOptions> options, TimeProvider time) : RtoService.RtoServiceBase
{
    /// <summary>The service's descriptor, where gRPC reflection looks for it: beside the bind method.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => RtoService.Descriptor;

    /// <summary>Binds the generated methods so that a request that is not valid protobuf is INVALID_ARGUMENT (the second parameter must be the generated base: grpc-dotnet looks the methods up on it).</summary>
    public static void BindService(ServiceBinderBase binder, RtoService.RtoServiceBase service) =>
        RtoService.BindService(GrpcRequestValidation.Validating(binder), service);

    public override Task<ServiceStatus> GetServiceStatus(ArgRequest request, ServerCallContext context) =>
        Task.FromResult(new ServiceStatus
        {
            ServiceId = options.Value.ServiceId,
            Status = "Running",
            ServiceType = "RtoService",
            User = options.Value.User,
            Message = options.Value.Message,
        });

    public override Task<StartResponse> StartOptimizeSession(StartRequest request, ServerCallContext context) =>
        Task.FromResult(sessions.TryStart(SessionMapping.ToSessionRequest(request), out OptimizationSession? session, out string error)
            ? new StartResponse { OptimizationInstanceId = session!.Id.ToString("D"), IsGood = true, Message = "Session started" }
            : new StartResponse { IsGood = false, Message = "Invalid start request: " + error });

    public override Task<OptimizeIterationResponse> OptimizeIteration(OptimizeIterationRequest request, ServerCallContext context)
    {
        string id = request.OptimizationInstanceId;
        if (!sessions.TryGet(id, out OptimizationSession? session))
        {
            return Task.FromResult(SessionMapping.UnknownSessionResponse(id));
        }

        IterationResult? result;
        try
        {
            result = session!.Iterate(SessionMapping.ToEvaluation(request, session));
        }
        catch (EvaluationNotRecordedException ex)
        {
            // Nothing was recorded: the caller may report again (the file failed) or Stop.
            throw new RpcException(new Status(ex.Retryable ? StatusCode.Unavailable : StatusCode.InvalidArgument, ex.Message));
        }
        catch (IOException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"the session file cannot be read or written ({ex.Message}); the session is unchanged: try again"));
        }

        return Task.FromResult(result is { } r
            ? SessionMapping.ToResponse(id, r, session.Problem.Variables, time.GetUtcNow())
            : SessionMapping.UnknownSessionResponse(id));
    }

    public override Task<PauseResponse> Pause(PauseRequest request, ServerCallContext context)
    {
        PauseResult? paused = sessions.TryGet(request.SessionId, out OptimizationSession? session) ? session!.Pause() : null;
        return Task.FromResult(paused is { } p
            ? new PauseResponse { IsPaused = p.IsPaused, Message = p.Message }
            : new PauseResponse { IsPaused = false, Message = SessionMapping.UnknownSession(request.SessionId) });
    }

    public override Task<StopResponse> Stop(StopRequest request, ServerCallContext context) =>
        Task.FromResult(new StopResponse
        {
            Message = sessions.TryStop(request.SessionId) ? $"Session {request.SessionId} stopped and deleted" : SessionMapping.UnknownSession(request.SessionId),
        });
}
