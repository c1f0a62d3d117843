using Rto.Optimization.Models.Formulas;

namespace Rto.Optimization.Models;

/// <summary>
/// A model written as formulas in a <c>.model</c> file (format: the package README, docs/rto-models.md),
/// parsed and compiled once; <see cref="Evaluate"/> runs the compiled delegate and allocates nothing.
/// </summary>
public sealed class FormulaModel : ProcessModel
{
    // The compiled delegate works on arrays; each thread copies the spans through its own pair.
    [ThreadStatic]
    private static double[]? t_inputs;

    [ThreadStatic]
    private static double[]? t_outputs;

    private readonly Func<double[], double[], double> _evaluate;

    private FormulaModel(string id, string sourcePath, ModelDefinition definition)
    {
        Id = id;
        SourcePath = sourcePath;
        Description = definition.Description;
        Inputs = definition.Inputs;
        Outputs = definition.Outputs;
        _evaluate = FormulaCompiler.Compile(definition);
    }

    /// <inheritdoc/>
    public override string Id { get; }

    /// <inheritdoc/>
    public override string Description { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Inputs { get; }

    /// <inheritdoc/>
    public override IReadOnlyList<string> Outputs { get; }

    /// <summary>The file the model came from, as named in errors.</summary>
    public string SourcePath { get; }

    /// <summary>Parses and compiles model text.</summary>
    /// <param name="id">The model id (a file's name without <c>.model</c>).</param>
    /// <param name="text">The file content.</param>
    /// <param name="sourcePath">The name errors are reported against.</param>
    /// <exception cref="FormulaSyntaxException">The text is not a valid model; the message has file, line and column.</exception>
    public static FormulaModel Parse(string id, string text, string sourcePath) =>
        new(id, sourcePath, ModelFileParser.Parse(text, sourcePath));

    /// <summary>Reads, parses and compiles a <c>.model</c> file; its id is the file name without extension.</summary>
    public static FormulaModel Load(string path) =>
        Parse(Path.GetFileNameWithoutExtension(path), File.ReadAllText(path), path);

    /// <inheritdoc/>
    public override double Evaluate(ReadOnlySpan<double> inputs, Span<double> outputs)
    {
        int inputCount = Inputs.Count;
        int outputCount = Outputs.Count;
        if (inputs.Length < inputCount || outputs.Length < outputCount)
        {
            throw new ArgumentException($"Model '{Id}' needs {inputCount} inputs and room for {outputCount} outputs; got {inputs.Length} and {outputs.Length}.");
        }

        double[] inputArray = t_inputs is { } i && i.Length >= inputCount ? i : t_inputs = new double[Math.Max(inputCount, 16)];
        double[] outputArray = t_outputs is { } o && o.Length >= outputCount ? o : t_outputs = new double[Math.Max(outputCount, 16)];
        inputs[..inputCount].CopyTo(inputArray);
        double objective = _evaluate(inputArray, outputArray);
        outputArray.AsSpan(0, outputCount).CopyTo(outputs);
        return objective;
    }
}
