using Grpc.Core;
using Grpc.RtoApi;
using Microsoft.Extensions.Options;
using Rto.Server.Endpoints;

namespace Rto.Server.Optimization;

/// <summary>The <c>Grpc.RtoApi.RtoService</c> gRPC service: a thin shell over <see cref="ISessionRouter"/> (this node's sessions, or in a cluster the owner's).</summary>
[BindServiceMethod(typeof(OptimizationGrpcService), nameof(BindService))]
internal sealed class OptimizationGrpcService(ISessionRouter sessions, IOptions<OptimizationOptions> options) : RtoService.RtoServiceBase
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
        sessions.StartAsync(request, context.CancellationToken);

    public override Task<OptimizeIterationResponse> OptimizeIteration(OptimizeIterationRequest request, ServerCallContext context) =>
        sessions.IterateAsync(request, context.CancellationToken);

    public override Task<PauseResponse> Pause(PauseRequest request, ServerCallContext context) =>
        sessions.PauseAsync(request, context.CancellationToken);

    public override Task<StopResponse> Stop(StopRequest request, ServerCallContext context) =>
        sessions.StopAsync(request, context.CancellationToken);
}
