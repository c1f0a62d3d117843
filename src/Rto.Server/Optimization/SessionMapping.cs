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
    /// The evaluation an OptimizeIteration reports, CVs in the session's order; <see langword="null"/>
    /// when the call reports nothing (a request for the first or the same candidate).
    /// <list type="bullet">
    /// <item>Values with a tagId go to the declared CV of that id; tags the session does not know are ignored.</item>
    /// <item>The objective's tagId may name a declared CV (original clients declare the objective as
    /// their first CV): that CV takes the objective's value.</item>
    /// <item>Values without a tagId are matched by position, as the original server did: it put the
    /// objective in front of the reported CVs, so when the objective fills the first CV (by its tagId,
    /// or untagged with one value fewer reported than CVs declared) value i is CV i + 1, else CV i.</item>
    /// <item>CV values without an objective are an evaluation whose objective is the first declared CV's value.</item>
    /// <item>CVs not reported are NaN (missing), which makes a limited CV infeasible.</item>
    /// </list>
    /// </summary>
    public static Evaluation? ToEvaluation(OptimizeIterationRequest request, OptimizationSession session)
    {
        TagVal? objective = request.ObjectiveFunctionValue;
        int declared = session.Problem.Constraints.Count;
        if (objective is null && (request.CvValues.Count == 0 || declared == 0))
        {
            return null;
        }

        var cvs = new double[declared];
        Array.Fill(cvs, double.NaN);
        int objectiveIndex = -1;
        if (objective is not null)
        {
            if (objective.TagId.Length != 0)
            {
                objectiveIndex = session.TryGetCvIndex(objective.TagId, out int named) ? named : -1;
            }
            else if (declared == request.CvValues.Count + 1)
            {
                objectiveIndex = 0;
            }
        }

        int offset = objectiveIndex == 0 ? 1 : 0;
        for (int i = 0; i < request.CvValues.Count; i++)
        {
            TagVal value = request.CvValues[i];
            if (value.TagId.Length != 0)
            {
                if (session.TryGetCvIndex(value.TagId, out int index))
                {
                    cvs[index] = value.NumericValue;
                }
            }
            else if (i + offset < declared)
            {
                cvs[i + offset] = value.NumericValue;
            }
        }

        if (objective is null)
        {
            return new Evaluation(cvs[0], cvs, double.IsFinite(cvs[0]));
        }

        if (objectiveIndex >= 0)
        {
            cvs[objectiveIndex] = objective.NumericValue;
        }

        return new Evaluation(objective.NumericValue, cvs, IsGood(objective));
    }

    /// <summary>
    /// Whether a reported objective is a successful evaluation. <c>isGood = false</c> marks a failure,
    /// but proto3 cannot tell false from "not set", and the original client sets neither isGood nor
    /// timeStamp (its server ignored both): a value with neither set counts as good when it is finite.
    /// </summary>
    public static bool IsGood(TagVal value) =>
        value.IsGood || (value.TimeStamp == 0 && double.IsFinite(value.NumericValue));

    public static OptimizeIterationResponse ToResponse(string sessionId, IterationResult result, IReadOnlyList<DecisionVariable> mvs, DateTimeOffset now)
    {
        int flag = result.State switch
        {
            // The original server answered 0 after a pause; the message says it resumed.
            IterationState.Resumed => IterationFlag.Candidate,
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
        new() { SessionId = sessionId, Flag = IterationFlag.OriginalUnknownSession, Message = UnknownSession(sessionId) };

    public static string UnknownSession(string id) => $"Unknown session '{id}'";

    private static TagDefinition ToTag(TagType tag) => new(tag.Id, tag.Name, tag.DataType, tag.LowerBound, tag.UpperBound);
}
