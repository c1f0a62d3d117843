using Grpc.Core;
using Grpc.RtoApi;
using Rto.Optimization;
using Rto.Optimization.Models;
using Rto.Server.Endpoints;
using Rto.Server.Optimization.Models;

namespace Rto.Server.Optimization;

/// <summary>
/// The <c>Grpc.RtoApi.DataProcessingService</c>: evaluates a process model on MVs for a session.
/// Caller mistakes are gRPC errors (NOT_FOUND: session or model; INVALID_ARGUMENT: missing MVs;
/// FAILED_PRECONDITION: no model or one that does not fit the session). A model that fails on
/// these MVs is not an error of the call: the reply has <c>is_good = false</c> and the objective
/// <c>isGood = false</c>, ready to report to OptimizeIteration as a failed evaluation.
/// </summary>
[BindServiceMethod(typeof(DataProcessingGrpcService), nameof(BindService))]
internal sealed class DataProcessingGrpcService(SessionStore sessions, ModelCatalog models, TimeProvider time) : DataProcessingService.DataProcessingServiceBase
{
    /// <summary>The service's descriptor, where gRPC reflection looks for it: beside the bind method.</summary>
    public static Google.Protobuf.Reflection.ServiceDescriptor Descriptor => DataProcessingService.Descriptor;

    /// <summary>Binds the generated methods so that a request that is not valid protobuf is INVALID_ARGUMENT (the second parameter must be the generated base: grpc-dotnet looks the methods up on it).</summary>
    public static void BindService(ServiceBinderBase binder, DataProcessingService.DataProcessingServiceBase service) =>
        DataProcessingService.BindService(GrpcRequestValidation.Validating(binder), service);

    public override Task<CalculateCVResponse> CalculateCV(CalculateCVRequest request, ServerCallContext context)
    {
        if (!sessions.TryGet(request.SessionId, out OptimizationSession? session))
        {
            throw new RpcException(new Status(StatusCode.NotFound, SessionMapping.UnknownSession(request.SessionId)));
        }

        string modelId = request.ModelId.Length != 0 ? request.ModelId : session!.Definition.ModelId;
        if (modelId.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"session {request.SessionId} has no model_id; name a model of this server in the request (known: {string.Join(", ", models.Models.Select(m => m.Id))})"));
        }

        if (!models.TryGet(modelId, out ProcessModel? model))
        {
            // A session's model_id is only a label until CalculateCV needs it to name a model here.
            throw new RpcException(new Status(StatusCode.NotFound, $"no model '{modelId}' on this server: CalculateCV needs a built-in model or one from the models folder (known: {string.Join(", ", models.Models.Select(m => m.Id))})"));
        }

        if (!session!.TryBind(model!, out ModelBinding? binding, out string error))
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, error));
        }

        IReadOnlyList<DecisionVariable> mvDefinitions = session.Problem.Variables;
        var mvs = new double[mvDefinitions.Count];
        for (int i = 0; i < mvs.Length; i++)
        {
            TagVal? value = request.MvValues.FirstOrDefault(v => v.TagId == mvDefinitions[i].Id);
            mvs[i] = value?.NumericValue ?? throw new RpcException(new Status(StatusCode.InvalidArgument, $"no value for MV '{mvDefinitions[i].Id}'; CalculateCV needs every MV of the session"));
        }

        var cvs = new double[session.Problem.Constraints.Count];
        double objective;
        string message = "";
        try
        {
            objective = binding!.Evaluate(mvs, cvs);
        }
        catch (Exception ex) when (ex is ArithmeticException or ArgumentException or InvalidOperationException or IndexOutOfRangeException)
        {
            objective = double.NaN;
            Array.Fill(cvs, double.NaN);
            message = $"model '{modelId}' failed: {ex.Message}";
        }

        bool good = message.Length == 0 && double.IsFinite(objective);
        ulong now = (ulong)time.GetUtcNow().ToUnixTimeMilliseconds();
        var response = new CalculateCVResponse
        {
            SessionId = request.SessionId,
            Objective = new TagVal { TagId = "objective", NumericValue = objective, IsGood = good, TimeStamp = now },
            IsGood = good,
            Message = good ? "" : message.Length != 0 ? message : $"model '{modelId}' gave no finite objective",
        };
        for (int c = 0; c < cvs.Length; c++)
        {
            response.CvValues.Add(new TagVal { TagId = session.Problem.Constraints[c].Id, NumericValue = cvs[c], IsGood = !double.IsNaN(cvs[c]), TimeStamp = now });
        }

        return Task.FromResult(response);
    }
}
