using System.Text;
using CsCheck;
using Rto.Optimization.Models;

namespace Rto.Fuzzing.Targets;

/// <summary>A model file's text and the inputs to evaluate it on, when it compiles.</summary>
/// <param name="Text">The <c>.model</c> file.</param>
/// <param name="Values">Input values (repeated to the model's input count).</param>
public sealed record FormulaInput(string Text, double[] Values)
{
    /// <inheritdoc/>
    public override string ToString() => $"{FuzzGen.Show(Encoding.UTF8.GetBytes(Text))}, inputs [{string.Join(", ", Values)}]";
}

/// <summary>
/// The model formula language (<see cref="FormulaModel.Parse"/>). Throws nothing but
/// <see cref="FormulaSyntaxException"/>, whose position lies within the text; a model that
/// compiles evaluates any inputs without throwing (NaN and infinities are values, not errors);
/// nesting however deep is refused, never a stack overflow. There is no writer, so no round trip.
/// </summary>
public sealed class FormulaTarget : FuzzTarget<FormulaInput>
{
    private static readonly string[] s_tokens =
    [
        "cv ", "objective", "inputs:", "description:", "=", "(", ")", ",", "+", "-", "*", "/", "^", "x1", "x2", "[FIC-101.SP]", "[", "]", "y", "pi", "e",
        "sin(", "pow(", "min(", "max(", "atan2(", "ln(", "log(", "sqr(", "1", "2.5", "1e308", "1e-400", "0", "\n", "\n    ", "#", "cv y = ", "objective = ",
    ];

    private static readonly Gen<string> s_leaf = Gen.OneOf("x1", "x2", "x3", "[FIC-101.SP]", "pi", "e", "0", "1", "2.5", "1e308", "1e-320", "y");

    private static readonly Gen<string> s_expression = Gen.Recursive<string>((depth, self) => depth >= 4
        ? s_leaf
        : Gen.Frequency(
            (3, s_leaf),
            (3, Gen.Select(self, Gen.OneOf("+", "-", "*", "/", "^"), self, (a, op, b) => $"{a} {op} {b}")),
            (2, Gen.Select(Gen.OneOf("sin", "cos", "exp", "sqrt", "ln", "log10", "abs", "floor", "tanh"), self, (f, a) => $"{f}({a})")),
            (1, Gen.Select(Gen.OneOf("pow", "atan2", "min", "max"), self, self, (f, a, b) => $"{f}({a}, {b})")),
            (1, self.Select(a => $"({a})")),
            (1, self.Select(a => $"-{a}"))));

    private static readonly Gen<string> s_model = Gen.Select(
        Gen.Bool,
        Gen.Bool,
        s_expression.Array[0, 3],
        s_expression,
        (description, inputs, cvs, objective) =>
        {
            var text = new StringBuilder();
            if (description)
            {
                text.Append("description: a fuzzed model # not a comment\n");
            }

            if (inputs)
            {
                text.Append("inputs: x1, x2, x3, [FIC-101.SP], y\n");
            }

            for (int i = 0; i < cvs.Length; i++)
            {
                text.Append("cv c").Append(i).Append(" = ").Append(cvs[i]).Append('\n');
            }

            return text.Append("objective = ").Append(objective).Append("\n    + 0 # continued\n").ToString();
        });

    // Deeper than any limit: parentheses, unary minus, powers and calls nested thousands of times.
    private static readonly Gen<string> s_deep = Gen.Select(Gen.Int[1, 20_000], Gen.OneOf(("(", ")"), ("-", ""), ("x1^", ""), ("sin(", ")"), ("1+", ""), ("min(1,", ")")), (depth, pair) =>
        "objective = " + string.Concat(Enumerable.Repeat(pair.Item1, depth)) + "x2" + string.Concat(Enumerable.Repeat(pair.Item2, depth)) + "\n");

    /// <inheritdoc/>
    public override string Name => "model-formula";

    /// <inheritdoc/>
    public override string Description => "model files through FormulaModel.Parse: only FormulaSyntaxException (positioned within the text), compiled models evaluate anything, deep nesting refused";

    /// <inheritdoc/>
    protected override Gen<FormulaInput> Inputs { get; } = Gen.Select(
        Gen.Frequency(
            (3, s_model),
            (3, FuzzGen.Mutated(s_model.Select(Encoding.UTF8.GetBytes), s_tokens).Select(Encoding.UTF8.GetString)),
            (2, FuzzGen.Junk(s_tokens, 60).Select(Encoding.UTF8.GetString)),
            (1, s_deep)),
        FuzzGen.FiniteDouble.Array[1, 5],
        (text, values) => new FormulaInput(text, values));

    /// <inheritdoc/>
    public override void Check(FormulaInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        FormulaModel model;
        try
        {
            model = FormulaModel.Parse("fuzzed", input.Text, "fuzzed.model");
        }
        catch (FormulaSyntaxException ex)
        {
            int lines = input.Text.ReplaceLineEndings("\n").Split('\n').Length;
            if (ex.Line < 1 || ex.Line > lines || ex.Column < 1 || !ex.Message.StartsWith("fuzzed.model:", StringComparison.Ordinal))
            {
                throw new FuzzPropertyException($"the error is not positioned within the text ({lines} lines): {ex.Message}", ex);
            }

            return;
        }

        double[] inputs = [.. Enumerable.Range(0, model.Inputs.Count).Select(i => input.Values[i % input.Values.Length])];
        double[] outputs = new double[model.Outputs.Count];
        model.Evaluate(inputs, outputs);
    }
}
