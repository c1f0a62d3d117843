using System.Diagnostics.CodeAnalysis;

namespace Rto.Optimization.Models;

/// <summary>
/// A problem's variables and constraints matched to a model's inputs and outputs, so the model
/// evaluates candidates in problem order. A model input matches a variable by id, else by name; a
/// constraint matches a model output the same way. Every input must be matched; a constraint the
/// model does not produce evaluates to NaN.
/// </summary>
public sealed class ModelBinding
{
    // Above this many inputs or outputs the scratch buffers come from the heap instead of the stack.
    private const int StackLimit = 128;

    private readonly int[] _inputToMv;
    private readonly int[] _cvToOutput;

    private ModelBinding(ProcessModel model, int[] inputToMv, int[] cvToOutput, IReadOnlyList<string> unboundConstraints)
    {
        Model = model;
        _inputToMv = inputToMv;
        _cvToOutput = cvToOutput;
        UnboundConstraints = unboundConstraints;
    }

    /// <summary>The bound model.</summary>
    public ProcessModel Model { get; }

    /// <summary>Ids of the constraints the model does not produce (they evaluate to NaN).</summary>
    public IReadOnlyList<string> UnboundConstraints { get; }

    /// <summary>Matches the problem's variables and constraints (by id, else by name) to the model's inputs and outputs.</summary>
    /// <param name="model">The model.</param>
    /// <param name="problem">The problem whose candidates the model evaluates.</param>
    /// <param name="binding">The binding, when true.</param>
    /// <param name="error">When false: which model inputs no variable provides, naming the problem's variables.</param>
    public static bool TryCreate(ProcessModel model, OptimizationProblem problem, [NotNullWhen(true)] out ModelBinding? binding, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(problem);
        return TryCreate(
            model,
            [.. problem.Variables.Select(v => v.Id)],
            [.. problem.Variables.Select(v => v.Name)],
            [.. problem.Constraints.Select(c => c.Id)],
            [.. problem.Constraints.Select(c => c.Name)],
            out binding,
            out error);
    }

    /// <summary>Matches variables and constraints given as ids and names (in problem order) to the model; the error names the inputs no MV provides.</summary>
    internal static bool TryCreate(
        ProcessModel model,
        IReadOnlyList<string> mvIds,
        IReadOnlyList<string?> mvNames,
        IReadOnlyList<string> cvIds,
        IReadOnlyList<string?> cvNames,
        [NotNullWhen(true)] out ModelBinding? binding,
        [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(model);
        binding = null;
        var inputToMv = new int[model.Inputs.Count];
        var missing = new List<string>();
        for (int i = 0; i < inputToMv.Length; i++)
        {
            inputToMv[i] = Match(model.Inputs[i], mvIds, mvNames);
            if (inputToMv[i] < 0)
            {
                missing.Add(model.Inputs[i]);
            }
        }

        if (missing.Count > 0)
        {
            string mvs = mvIds.Count == 0 ? "none" : string.Join(", ", mvIds.Select((id, k) => Describe(id, k < mvNames.Count ? mvNames[k] : null)));
            error = $"Model '{model.Id}' needs input{(missing.Count == 1 ? "" : "s")} {string.Join(", ", missing.Select(m => $"'{m}'"))} "
                + $"that no MV provides by id or name (session MVs: {mvs}).";
            return false;
        }

        var cvToOutput = new int[cvIds.Count];
        var unbound = new List<string>();
        for (int k = 0; k < cvToOutput.Length; k++)
        {
            cvToOutput[k] = MatchOutput(model.Outputs, cvIds[k], k < cvNames.Count ? cvNames[k] : null);
            if (cvToOutput[k] < 0)
            {
                unbound.Add(cvIds[k]);
            }
        }

        binding = new ModelBinding(model, inputToMv, cvToOutput, unbound);
        error = null;
        return true;
    }

    /// <summary>
    /// Evaluates the model on a candidate (one value per variable, problem order) and writes one
    /// value per constraint (NaN for unbound ones). Returns the objective. Allocates nothing for
    /// models of up to 128 inputs and outputs.
    /// </summary>
    public double Evaluate(ReadOnlySpan<double> candidate, Span<double> constraintValues)
    {
        int inputCount = _inputToMv.Length;
        int outputCount = Model.Outputs.Count;
        Span<double> inputs = inputCount <= StackLimit ? stackalloc double[inputCount] : new double[inputCount];
        Span<double> outputs = outputCount <= StackLimit ? stackalloc double[outputCount] : new double[outputCount];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = candidate[_inputToMv[i]];
        }

        double objective = Model.Evaluate(inputs, outputs);
        for (int k = 0; k < _cvToOutput.Length; k++)
        {
            int o = _cvToOutput[k];
            constraintValues[k] = o >= 0 ? outputs[o] : double.NaN;
        }

        return objective;
    }

    /// <summary>
    /// Evaluates a candidate as an optimizer evaluation: succeeded when the objective is finite
    /// (division by zero or a domain error of a formula gives ∞ or NaN, not an exception).
    /// </summary>
    public Evaluation EvaluateCandidate(ReadOnlySpan<double> candidate)
    {
        var constraintValues = new double[_cvToOutput.Length];
        double objective = Evaluate(candidate, constraintValues);
        return new Evaluation(objective, constraintValues, double.IsFinite(objective));
    }

    private static int Match(string input, IReadOnlyList<string> ids, IReadOnlyList<string?> names)
    {
        for (int j = 0; j < ids.Count; j++)
        {
            if (string.Equals(ids[j], input, StringComparison.Ordinal))
            {
                return j;
            }
        }

        for (int j = 0; j < names.Count; j++)
        {
            if (string.Equals(names[j], input, StringComparison.Ordinal))
            {
                return j;
            }
        }

        return -1;
    }

    private static int MatchOutput(IReadOnlyList<string> outputs, string cvId, string? cvName)
    {
        int byId = IndexOf(outputs, cvId);
        return byId >= 0 || string.IsNullOrEmpty(cvName) ? byId : IndexOf(outputs, cvName);
    }

    private static int IndexOf(IReadOnlyList<string> items, string value)
    {
        for (int i = 0; i < items.Count; i++)
        {
            if (string.Equals(items[i], value, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }

    private static string Describe(string id, string? name) => string.IsNullOrEmpty(name) || name == id ? $"'{id}'" : $"'{id}' ({name})";
}
