using Grpc.Core;
using Grpc.RtoApi;
using Rto.Server.Endpoints;

namespace Rto.Server.Optimization;

/// <summary>
/// The <c>Grpc.RtoApi.DataProcessingService</c>: evaluates a process model on MVs for a session.
/// Caller mistakes are gRPC errors (NOT_FOUND: session or model; INVALID_ARGUMENT: missing MVs;
/// FAILED_PRECONDITION: no model or one that does not fit the session). A model that fails on
/// these MVs is not an error of the call: the reply has <c>is_good = false</c> and the objective
/// <c>isGood = false</c>, ready to report to OptimizeIteration as a failed evaluation.
/// </summary>
[BindServiceMethod(typeof(DataProcessingGrpcService), nameof(BindService))]
internal sealed class DataProcessingGrpcService(ISessionRouter sessions) : DataProcessingService.DataProcessingServiceBase
{
    /// <summary>The service's descriptor, where gRPC reflection looks for it: beside the bind method.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => DataProcessingService.Descriptor;

    /// <summary>Binds the generated methods so that a request that is not valid protobuf is INVALID_ARGUMENT (the second parameter must be the generated base: grpc-dotnet looks the methods up on it).</summary>
    public static void BindService(ServiceBinderBase binder, DataProcessingService.DataProcessingServiceBase service) =>
        DataProcessingService.BindService(GrpcRequestValidation.Validating(binder), service);

    public override Task<CalculateCVResponse> CalculateCV(CalculateCVRequest request, ServerCallContext context) =>
        sessions.CalculateAsync(request, context.CancellationToken);
}
