namespace Rto.Optimization;

/// <summary>What values a <see cref="DecisionVariable"/> may take within its bounds.</summary>
public enum VariableType
{
    /// <summary>Any real value.</summary>
    Continuous,

    /// <summary>Whole numbers.</summary>
    Integer,

    /// <summary>0 or 1.</summary>
    Bool,
}

/// <summary>
/// A variable the optimizer chooses (in process optimization: a manipulated variable, MV, a
/// set-point). Create one with <see cref="Continuous"/>, <see cref="Integer"/>, <see cref="Bool"/>
/// or <see cref="Create"/>. A variable whose bounds leave one value (Lower == Upper, or one whole
/// number) is held there and costs no evaluations.
/// </summary>
public sealed record DecisionVariable
{
    private DecisionVariable(string id, VariableType type, double lower, double upper)
    {
        Id = id;
        Name = id;
        Type = type;
        Lower = lower;
        Upper = upper;
    }

    /// <summary>The variable's id; candidates and model bindings refer to variables by position and id.</summary>
    public string Id { get; }

    /// <summary>A display name, matched by <see cref="Models.ModelBinding"/> when no model input has the id; the id unless set.</summary>
    public string Name { get; init; }

    /// <summary>Continuous, Integer or Bool.</summary>
    public VariableType Type { get; }

    /// <summary>The smallest value a candidate may hold.</summary>
    public double Lower { get; }

    /// <summary>The largest value a candidate may hold.</summary>
    public double Upper { get; }

    /// <summary>A real-valued variable within [<paramref name="lower"/>, <paramref name="upper"/>].</summary>
    /// <exception cref="ArgumentException">A bound is not finite or <paramref name="lower"/> &gt; <paramref name="upper"/>.</exception>
    public static DecisionVariable Continuous(string id, double lower, double upper) => Create(id, VariableType.Continuous, lower, upper);

    /// <summary>A whole-numbered variable within [<paramref name="lower"/>, <paramref name="upper"/>].</summary>
    /// <exception cref="ArgumentException">A bound is not finite, <paramref name="lower"/> &gt; <paramref name="upper"/>, or no whole number lies between them.</exception>
    public static DecisionVariable Integer(string id, double lower, double upper) => Create(id, VariableType.Integer, lower, upper);

    /// <summary>A variable that is 0 or 1.</summary>
    public static DecisionVariable Bool(string id) => Create(id, VariableType.Bool, 0, 1);

    /// <summary>A variable of any type. A Bool variable's bounds must hold 0, 1 or both (one of them fixes it).</summary>
    /// <exception cref="ArgumentException">The bounds are not finite, reversed, or hold no value of <paramref name="type"/>.</exception>
    public static DecisionVariable Create(string id, VariableType type, double lower, double upper)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (!Enum.IsDefined(type))
        {
            throw new ArgumentOutOfRangeException(nameof(type), type, "unknown variable type");
        }

        if (!double.IsFinite(lower) || !double.IsFinite(upper))
        {
            throw new ArgumentException($"variable '{id}': bounds must be finite numbers, not [{lower}, {upper}]", nameof(lower));
        }

        if (lower > upper)
        {
            throw new ArgumentException($"variable '{id}': lower bound {lower} is greater than upper bound {upper}", nameof(lower));
        }

        if (type == VariableType.Integer && Math.Ceiling(lower) > Math.Floor(upper))
        {
            throw new ArgumentException($"variable '{id}': no whole number within [{lower}, {upper}]", nameof(lower));
        }

        if (type == VariableType.Bool && !(lower <= 0 && upper >= 0) && !(lower <= 1 && upper >= 1))
        {
            throw new ArgumentException($"variable '{id}': Bool bounds [{lower}, {upper}] contain neither 0 nor 1", nameof(lower));
        }

        return new DecisionVariable(id, type, lower, upper);
    }
}
