using Rto.Optimization;

namespace Rto.Server.Optimization;

/// <summary>
/// What a session was started with: the validated problem plus the method, seed and model id. It is
/// the session file's header, so a restart rebuilds exactly the same session from it.
/// </summary>
internal sealed record SessionDefinition(Guid Id, DateTimeOffset Created, string Method, string ModelId, int Seed, OptimizationProblem Problem)
{
    public const string NoLimitText = "no limit";

    /// <summary>
    /// Validates a session request and creates the session's optimizer; on failure <paramref name="error"/>
    /// names the problem (the start reply's message).
    /// </summary>
    public static bool TryCreate(SessionRequest request, Guid id, DateTimeOffset created, OptimizationOptions options, out SessionDefinition? definition, out Optimizer? optimizer, out string error)
    {
        definition = null;
        optimizer = null;
        if (request.Mvs.Count == 0)
        {
            error = "no MVs: a session needs at least one manipulated variable";
            return false;
        }

        if (request.Mvs.Count + request.Cvs.Count > options.MaxVariables)
        {
            error = $"too many variables: {request.Mvs.Count} MVs + {request.Cvs.Count} CVs exceeds the server's limit of {options.MaxVariables} (Optimization:MaxVariables)";
            return false;
        }

        // 0 is the original's "no limit": an online RTO loop runs until Stop, so only the server's
        // own limit bounds it.
        if (request.MaxIterations < 0)
        {
            error = $"max_iterations must be 0 (no limit: run until Stop) or greater, not {request.MaxIterations}";
            return false;
        }

        if (request.MaxIterations > options.MaxIterations)
        {
            error = $"max_iterations {request.MaxIterations} exceeds the server's limit of {options.MaxIterations} (Optimization:MaxIterations)";
            return false;
        }

        int budget = request.MaxIterations == 0 ? options.MaxIterations : request.MaxIterations;
        var ids = new HashSet<string>(StringComparer.Ordinal);
        var mvs = new List<DecisionVariable>(request.Mvs.Count);
        foreach (TagDefinition tag in request.Mvs)
        {
            if (!TryCreateMv(tag, mvs.Count, out DecisionVariable? mv, out error) || !TryAddId(ids, tag.Id, "MV", out error))
            {
                return false;
            }

            mvs.Add(mv!);
        }

        var cvs = new List<Constraint>(request.Cvs.Count);
        foreach (TagDefinition tag in request.Cvs)
        {
            if (!TryCreateCv(tag, cvs.Count, out Constraint? cv, out error) || !TryAddId(ids, tag.Id, "CV", out error))
            {
                return false;
            }

            cvs.Add(cv!);
        }

        // model_id is the caller's label for its plant model (the original client sends
        // "optimization_model"); only CalculateCV needs it to name a model of this server.
        string modelId = request.ModelId.Trim();
        int seed = options.Seed ?? SeedOf(id);
        var problem = new OptimizationProblem(mvs, cvs, request.Maximize, budget);
        if (!Optimizer.TryCreate(request.Method, problem, seed, out optimizer))
        {
            error = $"unknown optimization_method '{request.Method}'; known methods: {string.Join(", ", OptimizationMethods.Known)} (empty selects the default)";
            return false;
        }

        definition = new SessionDefinition(id, created, request.Method, modelId, seed, problem);
        error = "";
        return true;
    }

    /// <summary>A session's default seed: fixed by its id, so every session differs and each replays the same.</summary>
    public static int SeedOf(Guid id)
    {
        Span<byte> bytes = stackalloc byte[16];
        id.TryWriteBytes(bytes);
        int seed = 0;
        for (int i = 0; i < 16; i += 4)
        {
            seed ^= BitConverter.ToInt32(bytes[i..]);
        }

        return seed & int.MaxValue;
    }

    /// <summary>The dataType names accepted, as the start refusal lists them.</summary>
    public const string AcceptedTypes = "Numeric (or Double, Float, Real), Integer (or Int), Bool (or Boolean); any letter case, empty means Numeric";

    /// <summary>
    /// Accepts Numeric, Integer and Bool and the original service's synonyms (Boolean, Double, Float,
    /// Real, Int, Numeric) in any letter case; empty means Numeric (a continuous variable).
    /// </summary>
    public static bool TryParseType(string text, out VariableType type)
    {
        VariableType? parsed = text.Trim().ToUpperInvariant() switch
        {
            "" or "NUMERIC" or "DOUBLE" or "FLOAT" or "REAL" => VariableType.Continuous,
            "INTEGER" or "INT" => VariableType.Integer,
            "BOOL" or "BOOLEAN" => VariableType.Bool,
            _ => null,
        };
        type = parsed ?? VariableType.Continuous;
        return parsed is not null;
    }

    /// <summary>The wire and session-file name of a type: Numeric, Integer or Bool.</summary>
    public static string FormatType(VariableType type) => type == VariableType.Continuous ? "Numeric" : type.ToString();

    private static bool TryCreateMv(TagDefinition tag, int index, out DecisionVariable? mv, out string error)
    {
        mv = null;
        string label = Label("MV", tag, index);
        if (!TryParseType(tag.DataType, out VariableType type))
        {
            error = $"{label}: unknown dataType '{tag.DataType}'; accepted: {AcceptedTypes}";
            return false;
        }

        // The optimizers search between the bounds, so each must be a number they can work with:
        // DecisionVariable states the limit (magnitude below 1e30) and the other rules.
        if (!DecisionVariable.TryCreate(tag.Id, type, tag.LowerBound, tag.UpperBound, out DecisionVariable? created, out string? invalid))
        {
            error = $"{label}: {invalid[(invalid.IndexOf(": ", StringComparison.Ordinal) + 2)..]}";
            return false;
        }

        mv = created with { Name = tag.Name };
        error = "";
        return true;
    }

    private static bool TryCreateCv(TagDefinition tag, int index, out Constraint? cv, out string error)
    {
        cv = null;
        string label = Label("CV", tag, index);
        if (!TryParseType(tag.DataType, out _))
        {
            error = $"{label}: unknown dataType '{tag.DataType}'; accepted: {AcceptedTypes}";
            return false;
        }

        if (double.IsNaN(tag.LowerBound) || double.IsNaN(tag.UpperBound))
        {
            error = $"{label}: bounds must be numbers (a magnitude of 1e30 or more, such as ±1e100, means no limit), not NaN";
            return false;
        }

        if (tag.LowerBound > tag.UpperBound)
        {
            error = $"{label}: lower bound {tag.LowerBound} is greater than upper bound {tag.UpperBound}";
            return false;
        }

        cv = Constraint.Create(tag.Id, tag.LowerBound, tag.UpperBound) with { Name = tag.Name };
        error = "";
        return true;
    }

    private static bool TryAddId(HashSet<string> ids, string id, string kind, out string error)
    {
        if (string.IsNullOrWhiteSpace(id))
        {
            error = $"{kind} #{ids.Count + 1} has no id";
            return false;
        }

        if (!ids.Add(id))
        {
            error = $"duplicate tag id '{id}' ({kind}); ids must be unique across MVs and CVs";
            return false;
        }

        error = "";
        return true;
    }

    private static string Label(string kind, TagDefinition tag, int index) =>
        tag.Id.Length == 0 ? $"{kind} #{index + 1}" : $"{kind} '{tag.Id}'";
}
