using Grpc.RtoApi;

namespace Rto.Client.Optimization;

/// <summary>How a manipulated variable may move.</summary>
public enum OptimizationVariableType
{
    /// <summary>Any real value within the bounds.</summary>
    Numeric,

    /// <summary>Whole numbers within the bounds.</summary>
    Integer,

    /// <summary>0 or 1.</summary>
    Bool,
}

/// <summary>A manipulated variable (MV): a set-point the optimizer may move within [<paramref name="Lower"/>, <paramref name="Upper"/>].</summary>
/// <param name="Id">The tag id; unique across the session's MVs and CVs.</param>
/// <param name="Lower">The lower bound (finite).</param>
/// <param name="Upper">The upper bound (finite, not below <paramref name="Lower"/>).</param>
/// <param name="Type">Numeric, Integer or Bool.</param>
/// <param name="Name">A display name; models may match inputs by it.</param>
public sealed record ManipulatedVariable(string Id, double Lower, double Upper, OptimizationVariableType Type = OptimizationVariableType.Numeric, string? Name = null);

/// <summary>A controlled variable (CV): an output that must stay within its limits; ±<see cref="double.MaxValue"/> means no limit.</summary>
/// <param name="Id">The tag id; unique across the session's MVs and CVs.</param>
/// <param name="Lower">The lower limit; <see cref="double.MinValue"/> for none.</param>
/// <param name="Upper">The upper limit; <see cref="double.MaxValue"/> for none.</param>
/// <param name="Name">A display name; models may match outputs by it.</param>
public sealed record ControlledVariable(string Id, double Lower = double.MinValue, double Upper = double.MaxValue, string? Name = null);

/// <summary>What to optimize: the MVs, the CV limits and the evaluation budget.</summary>
/// <param name="Mvs">The manipulated variables; candidates list their values in this order.</param>
/// <param name="Cvs">The controlled variables; evaluations list their values in this order.</param>
/// <param name="MaxIterations">The evaluation budget.</param>
public sealed record OptimizationSessionDefinition(IReadOnlyList<ManipulatedVariable> Mvs, IReadOnlyList<ControlledVariable> Cvs, int MaxIterations)
{
    /// <summary>True to maximize the objective; false (the default) to minimize it.</summary>
    public bool Maximize { get; init; }

    /// <summary>The optimization method name; empty selects the server's default.</summary>
    public string Method { get; init; } = "";

    /// <summary>The server-side model CalculateCV uses for this session; <see langword="null"/> for none.</summary>
    public string? ModelId { get; init; }
}

/// <summary>What an OptimizeIteration answered.</summary>
public enum OptimizationIterationState
{
    /// <summary>A candidate to evaluate.</summary>
    Candidate = IterationFlag.Candidate,

    /// <summary>A candidate to evaluate; the call resumed a paused session (Rto 0.x servers; servers now answer <see cref="Candidate"/> with a message saying so).</summary>
    Resumed = IterationFlag.Resumed,

    /// <summary>The budget is spent: the MVs are the best point found.</summary>
    Completed = IterationFlag.Completed,
}

/// <summary>One OptimizeIteration answer: MVs in the session's MV order.</summary>
/// <param name="State">Candidate, resumed or completed.</param>
/// <param name="Mvs">One value per MV, in the session's order.</param>
/// <param name="Message">The server's message (e.g. <c>Optimization completed</c>).</param>
public sealed record OptimizationIteration(OptimizationIterationState State, IReadOnlyList<double> Mvs, string Message);

/// <summary>The evaluation of the outstanding candidate, reported by the next iteration.</summary>
/// <param name="Objective">The objective value.</param>
/// <param name="Cvs">The CV values by CV id; CVs left out count as missing.</param>
/// <param name="Succeeded">False when the evaluation failed (it then counts as infeasible).</param>
public sealed record OptimizationEvaluation(double Objective, IReadOnlyDictionary<string, double> Cvs, bool Succeeded = true);

/// <summary>A server-side model evaluation (CalculateCV).</summary>
/// <param name="Objective">The objective value.</param>
/// <param name="Cvs">One value per session CV, by CV id (NaN where the model has no such output).</param>
/// <param name="Succeeded">False when the model failed on these MVs.</param>
/// <param name="Message">Why it failed; empty otherwise.</param>
public sealed record OptimizationModelResult(double Objective, IReadOnlyDictionary<string, double> Cvs, bool Succeeded, string Message);

/// <summary>Progress of <see cref="OptimizationClient.RunAsync(OptimizationSessionDefinition, OptimizationEvaluator, IProgress{OptimizationRunProgress}?, CancellationToken)"/>: one report per evaluation.</summary>
/// <param name="Evaluations">Evaluations so far.</param>
/// <param name="Mvs">The candidate just evaluated.</param>
/// <param name="Objective">Its objective.</param>
/// <param name="Succeeded">Whether its evaluation succeeded.</param>
public sealed record OptimizationRunProgress(int Evaluations, IReadOnlyList<double> Mvs, double Objective, bool Succeeded);

/// <summary>The outcome of a run: the best point the server found.</summary>
/// <param name="SessionId">The session, still on the server (stop it to delete it).</param>
/// <param name="Mvs">The best MVs, in the session's MV order.</param>
/// <param name="Evaluations">Evaluations this run made.</param>
/// <param name="Message">The server's completion message.</param>
public sealed record OptimizationRunResult(string SessionId, IReadOnlyList<double> Mvs, int Evaluations, string Message)
{
    /// <summary>True when the server found a feasible point (every CV within its limits).</summary>
    public bool IsFeasible => Message == "Optimization completed";
}

/// <summary>Evaluates a candidate: returns the objective, the CVs in the session's CV order and whether it succeeded.</summary>
/// <param name="mvs">The candidate, in the session's MV order.</param>
/// <param name="cancellationToken">Cancels the evaluation.</param>
public delegate ValueTask<(double Objective, IReadOnlyList<double> Cvs, bool Ok)> OptimizationEvaluator(IReadOnlyList<double> mvs, CancellationToken cancellationToken);
