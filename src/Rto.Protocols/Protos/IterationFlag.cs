namespace Grpc.RtoApi;

/// <summary>
/// The values of <see cref="OptimizeIterationResponse.Flag"/>: what an OptimizeIteration answered.
/// The numbers are the wire contract of the RTO service (<c>rto.proto</c>); 2 is not used.
/// </summary>
public static class IterationFlag
{
    /// <summary>
    /// 0: the MVs are the next candidate; evaluate them and report the result with the next call. The
    /// first call after Pause answers 0 too (as the original RTO server did), with a message saying it resumed.
    /// </summary>
    public const int Candidate = 0;

    /// <summary>
    /// 1: the call resumed a paused session; the MVs are a candidate to evaluate as with
    /// <see cref="Candidate"/>. Earlier Rto versions answered it; the server now answers
    /// <see cref="Candidate"/> as the original RTO server did, and clients accept both.
    /// </summary>
    public const int Resumed = 1;

    /// <summary>
    /// 3: the evaluation budget (<c>max_iterations</c>) is spent; the MVs are the best point found
    /// (feasibility first) and every later call answers the same.
    /// </summary>
    public const int Completed = 3;

    /// <summary>
    /// −1: "unknown session" as earlier Rto versions answered it; the server now answers
    /// <see cref="OriginalUnknownSession"/> (4) as the original did, and clients treat both alike.
    /// </summary>
    public const int UnknownSession = -1;

    /// <summary>
    /// 4: the session id is unknown (never started, stopped, or not a GUID); the message says so and
    /// there are no MVs. The original RTO server's value, which the server answers.
    /// </summary>
    public const int OriginalUnknownSession = 4;
}
