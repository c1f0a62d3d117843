namespace Rto.Server.Optimization;

/// <summary>
/// What a caller asks a new session to solve, as declared and not yet validated: the gRPC edge maps
/// a StartRequest onto it, <see cref="SessionDefinition.TryCreate"/> validates it.
/// </summary>
internal sealed record SessionRequest(IReadOnlyList<TagDefinition> Mvs, IReadOnlyList<TagDefinition> Cvs, bool Maximize, string Method, int MaxIterations, string ModelId);

/// <summary>An MV or CV as declared: id, name, data type text (Numeric, Integer, Bool in any case) and bounds.</summary>
internal sealed record TagDefinition(string Id, string Name, string DataType, double LowerBound, double UpperBound);

/// <summary>What an OptimizeIteration answers: a candidate to evaluate, the same after a pause, or the final answer.</summary>
internal enum IterationState
{
    Candidate,
    Resumed,
    Completed,
}

/// <summary>The answer to one OptimizeIteration: the state, the MVs (session order) and a message.</summary>
internal readonly record struct IterationResult(IterationState State, IReadOnlyList<double> Mvs, string Message);

/// <summary>The answer to Pause.</summary>
internal readonly record struct PauseResult(bool IsPaused, string Message);
