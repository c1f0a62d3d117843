namespace Rto.Optimization;

/// <summary>
/// An output of the evaluation that must stay within limits (in process optimization: a controlled
/// variable, CV). Each evaluation reports one value per constraint, in problem order. A side
/// without a limit is ±∞; any bound whose magnitude is at least <see cref="OptimizationProblem.InfiniteBound"/>
/// (1e30: ±1e100 and ±<see cref="double.MaxValue"/> included) is read the same way. A constraint with
/// no limit at all is never a constraint: it only records a value (a model output the caller wants to see).
/// </summary>
public sealed record Constraint
{
    private Constraint(string id, double lower, double upper)
    {
        Id = id;
        Name = id;
        Lower = lower;
        Upper = upper;
    }

    /// <summary>The constraint's id.</summary>
    public string Id { get; }

    /// <summary>A display name, matched by <see cref="Models.ModelBinding"/> when no model output has the id; the id unless set.</summary>
    public string Name { get; init; }

    /// <summary>The lower limit as given (−∞, or at most −<see cref="OptimizationProblem.InfiniteBound"/>: none).</summary>
    public double Lower { get; }

    /// <summary>The upper limit as given (+∞, or at least <see cref="OptimizationProblem.InfiniteBound"/>: none).</summary>
    public double Upper { get; }

    /// <summary>True when the lower bound is a real limit.</summary>
    public bool HasLower => Lower > -OptimizationProblem.InfiniteBound;

    /// <summary>True when the upper bound is a real limit.</summary>
    public bool HasUpper => Upper < OptimizationProblem.InfiniteBound;

    /// <summary>value ≤ <paramref name="upper"/>.</summary>
    public static Constraint AtMost(string id, double upper) => Create(id, double.NegativeInfinity, upper);

    /// <summary>value ≥ <paramref name="lower"/>.</summary>
    public static Constraint AtLeast(string id, double lower) => Create(id, lower, double.PositiveInfinity);

    /// <summary><paramref name="lower"/> ≤ value ≤ <paramref name="upper"/>.</summary>
    public static Constraint Between(string id, double lower, double upper) => Create(id, lower, upper);

    /// <summary>An output without limits: its value is recorded, never limiting.</summary>
    public static Constraint Unlimited(string id) => Create(id, double.NegativeInfinity, double.PositiveInfinity);

    /// <summary>A constraint with both bounds given (±∞, or a magnitude of at least <see cref="OptimizationProblem.InfiniteBound"/>, for no limit on a side).</summary>
    /// <exception cref="ArgumentException">A bound is NaN or <paramref name="lower"/> &gt; <paramref name="upper"/>.</exception>
    public static Constraint Create(string id, double lower, double upper)
    {
        ArgumentNullException.ThrowIfNull(id);
        if (double.IsNaN(lower) || double.IsNaN(upper))
        {
            throw new ArgumentException($"constraint '{id}': bounds must be numbers (±∞ means no limit), not NaN", nameof(lower));
        }

        if (lower > upper)
        {
            throw new ArgumentException($"constraint '{id}': lower bound {lower} is greater than upper bound {upper}", nameof(lower));
        }

        return new Constraint(id, lower, upper);
    }
}
