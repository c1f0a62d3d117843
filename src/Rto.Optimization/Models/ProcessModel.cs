namespace Rto.Optimization.Models;

/// <summary>
/// A process model: named inputs (the decision variables, MVs) in, named outputs (constraint values,
/// CVs) and an objective out. <see cref="BuiltInModels"/> and <see cref="FormulaModel"/> derive from
/// it; so may your own models. <see cref="ModelBinding"/> matches one to a problem.
/// A model is compiled once and evaluated many times, concurrently: <see cref="Evaluate"/> must be thread-safe.
/// </summary>
public abstract class ProcessModel
{
    /// <summary>The model's id (the Rto server's sessions and CalculateCV name models by it).</summary>
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
