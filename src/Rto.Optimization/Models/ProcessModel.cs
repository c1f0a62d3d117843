namespace Rto.Server.Optimization.Models;

/// <summary>
/// A model CalculateCV can evaluate: named inputs (MVs) in, named outputs (CVs) and an objective out.
/// Built-in test models and formula models from the models folder both derive from it.
/// A model is compiled once and evaluated many times, concurrently: <see cref="Evaluate"/> must be thread-safe.
/// </summary>
public abstract class ProcessModel
{
    /// <summary>The id a session or CalculateCV names the model by (<c>model_id</c>).</summary>
    public abstract string Id { get; }

    /// <summary>One line saying what the model is.</summary>
    public abstract string Description { get; }

    /// <summary>Input names in the order <see cref="Evaluate"/> expects them. An MV matches an input by id, else by name.</summary>
    public abstract IReadOnlyList<string> Inputs { get; }

    /// <summary>Output (CV) names in the order <see cref="Evaluate"/> writes them. A CV matches an output by id, else by name.</summary>
    public abstract IReadOnlyList<string> Outputs { get; }

    /// <summary>Evaluates the model: writes one value per output into <paramref name="outputs"/> and returns the objective.</summary>
    public abstract double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs);
}
