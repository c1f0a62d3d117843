using Grpc.RtoApi;
using Rto.Optimization;

namespace Rto.Server.Optimization;

/// <summary>
/// The protobuf edge of the sessions: gRPC requests become the session's own types and its results
/// become replies here, so <see cref="SessionStore"/> and <see cref="OptimizationSession"/> never see
/// generated types.
/// </summary>
internal static class SessionMapping
{
    public static SessionRequest ToSessionRequest(StartRequest request) => new(
        [.. request.Mvs.Select(ToTag)],
        [.. request.Cvs.Select(ToTag)],
        request.Maximize,
        request.OptimizationMethod,
        request.MaxIterations,
        request.ModelId);

    /// <summary>
    /// The evaluation an OptimizeIteration reports, CVs in the session's order: matched by tagId,
    /// tags the session does not know ignored, CVs not reported NaN (missing). <see langword="null"/>
    /// without an objective (CV values alone are not an evaluation).
    /// </summary>
    public static Evaluation? ToEvaluation(OptimizeIterationRequest request, OptimizationSession session)
    {
        if (request.ObjectiveFunctionValue is not { } objective)
        {
            return null;
        }

        var cvs = new double[session.Problem.Constraints.Count];
        Array.Fill(cvs, double.NaN);
        foreach (TagVal value in request.CvValues)
        {
            if (session.TryGetCvIndex(value.TagId, out int index))
            {
                cvs[index] = value.NumericValue;
            }
        }

        return new Evaluation(objective.NumericValue, cvs, objective.IsGood);
    }

    public static OptimizeIterationResponse ToResponse(string sessionId, IterationResult result, IReadOnlyList<DecisionVariable> mvs, DateTimeOffset now)
    {
        int flag = result.State switch
        {
            IterationState.Resumed => IterationFlag.Resumed,
            IterationState.Completed => IterationFlag.Completed,
            _ => IterationFlag.Candidate,
        };
        var response = new OptimizeIterationResponse { SessionId = sessionId, Flag = flag, Message = result.Message };
        ulong timestamp = (ulong)now.ToUnixTimeMilliseconds();
        for (int i = 0; i < mvs.Count; i++)
        {
            response.MvValues.Add(new TagVal { TagId = mvs[i].Id, NumericValue = result.Mvs[i], IsGood = true, TimeStamp = timestamp });
        }

        return response;
    }

    public static OptimizeIterationResponse UnknownSessionResponse(string sessionId) =>
        new() { SessionId = sessionId, Flag = IterationFlag.UnknownSession, Message = UnknownSession(sessionId) };

    public static string UnknownSession(string id) => $"Unknown session '{id}'";

    private static TagDefinition ToTag(TagType tag) => new(tag.Id, tag.Name, tag.DataType, tag.LowerBound, tag.UpperBound);
}
