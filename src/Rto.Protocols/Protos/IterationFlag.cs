namespace Grpc.RtoApi;

/// <summary>
/// The values of <see cref="OptimizeIterationResponse.Flag"/>: what an OptimizeIteration answered.
/// The numbers are the wire contract of the RTO service (<c>rto.proto</c>); 2 is not used.
/// </summary>
public static class IterationFlag
{
    /// <summary>0: the MVs are the next candidate; evaluate them and report the result with the next call.</summary>
    public const int Candidate = 0;

    /// <summary>
    /// 1: the call resumed a paused session; the MVs are a candidate to evaluate as with
    /// <see cref="Candidate"/>. (The original RTO server answered 0 here.)
    /// </summary>
    public const int Resumed = 1;

    /// <summary>
    /// 3: the evaluation budget (<c>max_iterations</c>) is spent; the MVs are the best point found
    /// (feasibility first) and every later call answers the same.
    /// </summary>
    public const int Completed = 3;

    /// <summary>
    /// −1: the session id is unknown (never started, stopped, or not a GUID); the message says so and
    /// there are no MVs. The original RTO server answered <see cref="OriginalUnknownSession"/> (4).
    /// </summary>
    public const int UnknownSession = -1;

    /// <summary>4: "unknown session" as the original RTO server answered it; clients treat it like <see cref="UnknownSession"/>.</summary>
    public const int OriginalUnknownSession = 4;
}
