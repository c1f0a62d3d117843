using System.Diagnostics.CodeAnalysis;

namespace Rto.Server.Optimization.Models;

/// <summary>
/// A session's MVs and CVs matched to a model's inputs and outputs, so CalculateCV can evaluate in
/// the session's order. A model input matches an MV by id, else by name; a CV matches a model output
/// the same way. Every input must be matched; a CV the model does not produce evaluates to NaN.
/// </summary>
public sealed class ModelBinding
{
    // Above this many inputs or outputs the scratch buffers come from the heap instead of the stack.
    private const int StackLimit = 128;

    private readonly int[] _inputToMv;
    private readonly int[] _cvToOutput;

    private ModelBinding(ProcessModel model, int[] inputToMv, int[] cvToOutput, IReadOnlyList<string> unboundCvs)
    {
        Model = model;
        _inputToMv = inputToMv;
        _cvToOutput = cvToOutput;
        UnboundCvs = unboundCvs;
    }

    public ProcessModel Model { get; }

    /// <summary>Ids of the session CVs the model does not produce (they evaluate to NaN).</summary>
    public IReadOnlyList<string> UnboundCvs { get; }

    /// <summary>Matches the session's MVs and CVs (ids and names in session order) to the model.</summary>
    /// <param name="error">When false: which model inputs no MV provides, naming the session's MVs.</param>
    public static bool TryCreate(
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
    /// Evaluates the model on the session's MV values (session order) and writes one value per
    /// session CV (NaN for unbound ones). Returns the objective.
    /// </summary>
    public double Evaluate(ReadOnlySpan<double> mvValues, Span<double> cvValues)
    {
        int inputCount = _inputToMv.Length;
        int outputCount = Model.Outputs.Count;
        Span<double> inputs = inputCount <= StackLimit ? stackalloc double[inputCount] : new double[inputCount];
        Span<double> outputs = outputCount <= StackLimit ? stackalloc double[outputCount] : new double[outputCount];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = mvValues[_inputToMv[i]];
        }

        double objective = Model.Evaluate(inputs, outputs);
        for (int k = 0; k < _cvToOutput.Length; k++)
        {
            int o = _cvToOutput[k];
            cvValues[k] = o >= 0 ? outputs[o] : double.NaN;
        }

        return objective;
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
