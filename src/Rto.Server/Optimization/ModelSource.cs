using Rto.Server.Optimization.Models;

namespace Rto.Server.Optimization;

// MERGE: stand-ins until ModelCatalog and ModelBinding (Models/) arrive; then register
// ModelCatalog as IModelSource (or use it directly) and replace SessionModelBinding with ModelBinding.

/// <summary>Where sessions and CalculateCV find process models by id.</summary>
internal interface IModelSource
{
    bool TryGet(string id, out ProcessModel? model);
}

/// <summary>The built-in test models only.</summary>
internal sealed class BuiltInModelSource : IModelSource
{
    public bool TryGet(string id, out ProcessModel? model)
    {
        model = BuiltInModels.All.FirstOrDefault(m => string.Equals(m.Id, id, StringComparison.OrdinalIgnoreCase));
        return model is not null;
    }
}

/// <summary>A model's inputs and outputs matched to a session's MVs and CVs (by id, else by name).</summary>
internal sealed class SessionModelBinding
{
    private readonly ProcessModel _model;
    private readonly int[] _inputToMv;
    private readonly int[] _cvToOutput;

    private SessionModelBinding(ProcessModel model, int[] inputToMv, int[] cvToOutput)
    {
        _model = model;
        _inputToMv = inputToMv;
        _cvToOutput = cvToOutput;
    }

    public static bool TryCreate(ProcessModel model, IReadOnlyList<string> mvIds, IReadOnlyList<string> mvNames, IReadOnlyList<string> cvIds, IReadOnlyList<string> cvNames, out SessionModelBinding? binding, out string error)
    {
        var inputToMv = new int[model.Inputs.Count];
        for (int i = 0; i < inputToMv.Length; i++)
        {
            inputToMv[i] = IndexOf(model.Inputs[i], mvIds, mvNames);
            if (inputToMv[i] < 0)
            {
                binding = null;
                error = $"model '{model.Id}' needs input '{model.Inputs[i]}', which is neither the id nor the name of an MV of the session";
                return false;
            }
        }

        var cvToOutput = new int[cvIds.Count];
        for (int c = 0; c < cvToOutput.Length; c++)
        {
            cvToOutput[c] = IndexOf(cvIds[c], model.Outputs, model.Outputs);
            if (cvToOutput[c] < 0)
            {
                cvToOutput[c] = IndexOf(cvNames[c], model.Outputs, model.Outputs);
            }
        }

        binding = new SessionModelBinding(model, inputToMv, cvToOutput);
        error = "";
        return true;
    }

    /// <summary>Evaluates the model on <paramref name="mvs"/> (session order); CVs the model lacks are NaN.</summary>
    public double Evaluate(ReadOnlySpan<double> mvs, Span<double> cvs)
    {
        Span<double> inputs = _inputToMv.Length <= 64 ? stackalloc double[_inputToMv.Length] : new double[_inputToMv.Length];
        for (int i = 0; i < inputs.Length; i++)
        {
            inputs[i] = mvs[_inputToMv[i]];
        }

        Span<double> outputs = _model.Outputs.Count <= 64 ? stackalloc double[_model.Outputs.Count] : new double[_model.Outputs.Count];
        double objective = _model.Evaluate(inputs, outputs);
        for (int c = 0; c < cvs.Length; c++)
        {
            cvs[c] = _cvToOutput[c] >= 0 ? outputs[_cvToOutput[c]] : double.NaN;
        }

        return objective;
    }

    private static int IndexOf(string key, IReadOnlyList<string> ids, IReadOnlyList<string> names)
    {
        for (int i = 0; i < ids.Count; i++)
        {
            if (string.Equals(ids[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        for (int i = 0; i < names.Count; i++)
        {
            if (string.Equals(names[i], key, StringComparison.Ordinal))
            {
                return i;
            }
        }

        return -1;
    }
}
