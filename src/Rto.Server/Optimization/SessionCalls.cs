using Grpc.Core;
using Grpc.RtoApi;
using Rto.Optimization;
using Rto.Optimization.Models;
using Rto.Server.Optimization.Models;

namespace Rto.Server.Optimization;

/// <summary>
/// The session calls of the gRPC services, on a session this node holds (<see langword="null"/>:
/// an unknown session). The node that owns a session runs them, for its own clients and for calls
/// another node forwarded (cluster).
/// </summary>
internal sealed class SessionCalls(ModelCatalog models, TimeProvider time)
{
    public OptimizeIterationResponse Iterate(OptimizationSession? session, OptimizeIterationRequest request)
    {
        string id = request.OptimizationInstanceId;
        if (session is null)
        {
            return SessionMapping.UnknownSessionResponse(id);
        }

        IterationResult? result;
        try
        {
            result = session.Iterate(SessionMapping.ToEvaluation(request, session));
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

        return result is { } r
            ? SessionMapping.ToResponse(id, r, session.Problem.Variables, time.GetUtcNow())
            : SessionMapping.UnknownSessionResponse(id);
    }

    public PauseResponse Pause(OptimizationSession? session, PauseRequest request) =>
        session?.Pause() is { } p
            ? new PauseResponse { IsPaused = p.IsPaused, Message = p.Message }
            : new PauseResponse { IsPaused = false, Message = SessionMapping.UnknownSession(request.SessionId) };

    public static StopResponse Stopped(string id, bool stopped) =>
        new() { Message = stopped ? $"Session {id} stopped and deleted" : SessionMapping.UnknownSession(id) };

    /// <summary>CalculateCV; caller mistakes are <see cref="RpcException"/>s (see <see cref="DataProcessingGrpcService"/>).</summary>
    public CalculateCVResponse Calculate(OptimizationSession? session, CalculateCVRequest request)
    {
        if (session is null)
        {
            throw new RpcException(new Status(StatusCode.NotFound, SessionMapping.UnknownSession(request.SessionId)));
        }

        string modelId = request.ModelId.Length != 0 ? request.ModelId : session.Definition.ModelId;
        if (modelId.Length == 0)
        {
            throw new RpcException(new Status(StatusCode.FailedPrecondition, $"session {request.SessionId} has no model_id; name a model of this server in the request (known: {string.Join(", ", models.Models.Select(m => m.Id))})"));
        }

        if (!models.TryGet(modelId, out ProcessModel? model))
        {
            // A session's model_id is only a label until CalculateCV needs it to name a model here.
            throw new RpcException(new Status(StatusCode.NotFound, $"no model '{modelId}' on this server: CalculateCV needs a built-in model or one from the models folder (known: {string.Join(", ", models.Models.Select(m => m.Id))})"));
        }

        if (!session.TryBind(model!, out ModelBinding? binding, out string error))
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

        return response;
    }
}

/// <summary>
/// Where a session call runs: on this node's <see cref="SessionStore"/> (single node), or on the
/// node that owns the session (<see cref="ClusterSessions"/>).
/// </summary>
internal interface ISessionRouter
{
    Task<StartResponse> StartAsync(StartRequest request, CancellationToken cancellationToken);

    Task<OptimizeIterationResponse> IterateAsync(OptimizeIterationRequest request, CancellationToken cancellationToken);

    Task<PauseResponse> PauseAsync(PauseRequest request, CancellationToken cancellationToken);

    Task<StopResponse> StopAsync(StopRequest request, CancellationToken cancellationToken);

    Task<CalculateCVResponse> CalculateAsync(CalculateCVRequest request, CancellationToken cancellationToken);
}

/// <summary>A single node: every session is in this node's store.</summary>
internal sealed class LocalSessionRouter(SessionStore sessions, SessionCalls calls) : ISessionRouter
{
    public Task<StartResponse> StartAsync(StartRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(sessions.TryStart(SessionMapping.ToSessionRequest(request), out OptimizationSession? session, out string error)
            ? new StartResponse { OptimizationInstanceId = session!.Id.ToString("D"), IsGood = true, Message = "Session started" }
            : new StartResponse { IsGood = false, Message = "Invalid start request: " + error });

    public Task<OptimizeIterationResponse> IterateAsync(OptimizeIterationRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(calls.Iterate(Find(request.OptimizationInstanceId), request));

    public Task<PauseResponse> PauseAsync(PauseRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(calls.Pause(Find(request.SessionId), request));

    public Task<StopResponse> StopAsync(StopRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(SessionCalls.Stopped(request.SessionId, sessions.TryStop(request.SessionId)));

    public Task<CalculateCVResponse> CalculateAsync(CalculateCVRequest request, CancellationToken cancellationToken) =>
        Task.FromResult(calls.Calculate(Find(request.SessionId), request));

    private OptimizationSession? Find(string id) => sessions.TryGet(id, out OptimizationSession? session) ? session : null;
}
