using System.Diagnostics.CodeAnalysis;

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
    /// <exception cref="ArgumentException">The bounds are not valid (see <see cref="TryCreate"/>).</exception>
    public static DecisionVariable Continuous(string id, double lower, double upper) => Create(id, VariableType.Continuous, lower, upper);

    /// <summary>A whole-numbered variable within [<paramref name="lower"/>, <paramref name="upper"/>].</summary>
    /// <exception cref="ArgumentException">The bounds are not valid or no whole number lies between them (see <see cref="TryCreate"/>).</exception>
    public static DecisionVariable Integer(string id, double lower, double upper) => Create(id, VariableType.Integer, lower, upper);

    /// <summary>A variable that is 0 or 1.</summary>
    public static DecisionVariable Bool(string id) => Create(id, VariableType.Bool, 0, 1);

    /// <summary>A variable of any type. A Bool variable's bounds must hold 0, 1 or both (one of them fixes it).</summary>
    /// <exception cref="ArgumentException">The bounds are not valid for <paramref name="type"/>; the message says why (see <see cref="TryCreate"/>).</exception>
    public static DecisionVariable Create(string id, VariableType type, double lower, double upper) =>
        TryCreate(id, type, lower, upper, out DecisionVariable? variable, out string? error) ? variable : throw new ArgumentException(error, nameof(lower));

    /// <summary>
    /// Creates a variable, or says why the bounds cannot be searched: each bound must be a number of
    /// magnitude below <see cref="OptimizationProblem.InfiniteBound"/> (1e30; a larger one means "no
    /// bound", and the optimizers search between the bounds), lower ≤ upper, an Integer variable needs a
    /// whole number between them and a Bool variable 0 or 1. A service maps a false return to an
    /// invalid-argument reply with <paramref name="error"/> as the message.
    /// </summary>
    /// <param name="id">The variable's id (named in the message).</param>
    /// <param name="type">Continuous, Integer or Bool.</param>
    /// <param name="lower">The lower bound.</param>
    /// <param name="upper">The upper bound.</param>
    /// <param name="variable">The variable, when the bounds are valid.</param>
    /// <param name="error">Why not, when they are not: names the variable, the bounds and the rule broken.</param>
    public static bool TryCreate(string id, VariableType type, double lower, double upper, [NotNullWhen(true)] out DecisionVariable? variable, [NotNullWhen(false)] out string? error)
    {
        ArgumentNullException.ThrowIfNull(id);
        variable = null;
        if (!Enum.IsDefined(type))
        {
            error = $"variable '{id}': unknown variable type {type}";
        }
        else if (!IsSearchable(lower) || !IsSearchable(upper))
        {
            error = $"variable '{id}': bounds must be finite numbers of magnitude below {OptimizationProblem.InfiniteBound:0e0} (larger means unbounded, and a variable needs bounds to search between), not [{lower}, {upper}]";
        }
        else if (lower > upper)
        {
            error = $"variable '{id}': lower bound {lower} is greater than upper bound {upper}";
        }
        else if (type == VariableType.Integer && Math.Ceiling(lower) > Math.Floor(upper))
        {
            error = $"variable '{id}': no whole number within [{lower}, {upper}]";
        }
        else if (type == VariableType.Bool && !(lower <= 0 && upper >= 0) && !(lower <= 1 && upper >= 1))
        {
            error = $"variable '{id}': Bool bounds [{lower}, {upper}] contain neither 0 nor 1";
        }
        else
        {
            error = null;
            variable = new DecisionVariable(id, type, lower, upper);
        }

        return variable is not null;
    }

    private static bool IsSearchable(double bound) => Math.Abs(bound) < OptimizationProblem.InfiniteBound;
}
