using System.Collections.Frozen;
using System.Reflection;

namespace Rto.Optimization.Models.Formulas;

/// <summary>
/// A function a formula may call. <see cref="Variadic"/> functions (min, max) take two or more
/// arguments and fold them pairwise with the two-argument <see cref="Method"/>.
/// </summary>
internal sealed record FormulaFunction(string Name, MethodInfo Method, bool Variadic = false)
{
    public int Arity => Method.GetParameters().Length;

    /// <summary>The functions by name (case-sensitive, lower case as in the spec).</summary>
    public static FrozenDictionary<string, FormulaFunction> All { get; } = new FormulaFunction[]
    {
        Unary("sin", Math.Sin), Unary("cos", Math.Cos), Unary("tan", Math.Tan),
        Unary("asin", Math.Asin), Unary("acos", Math.Acos), Unary("atan", Math.Atan),
        Unary("sinh", Math.Sinh), Unary("cosh", Math.Cosh), Unary("tanh", Math.Tanh),
        Unary("exp", Math.Exp), Unary("sqrt", Math.Sqrt), Unary("log10", Math.Log10), Unary("ln", Math.Log),
        Unary("abs", Math.Abs), Unary("floor", Math.Floor), Unary("ceil", Math.Ceiling),
        Binary("pow", Math.Pow), Binary("atan2", Math.Atan2),
        Binary("min", Math.Min) with { Variadic = true }, Binary("max", Math.Max) with { Variadic = true },
    }.ToFrozenDictionary(f => f.Name, StringComparer.Ordinal);

    /// <summary>A hint for names people often try that are not functions here.</summary>
    public static string? Suggest(string name) => name switch
    {
        "log" => "use ln for the natural logarithm or log10",
        "sqr" or "square" => "use x^2 or pow(x, 2)",
        "power" => "use pow(x, y) or x^y",
        "ceiling" => "use ceil",
        _ => All.Keys.FirstOrDefault(k => string.Equals(k, name, StringComparison.OrdinalIgnoreCase)) is { } k
            ? $"did you mean '{k}'?"
            : null,
    };

    private static FormulaFunction Unary(string name, Func<double, double> f) => new(name, f.Method);

    private static FormulaFunction Binary(string name, Func<double, double, double> f) => new(name, f.Method);
}
