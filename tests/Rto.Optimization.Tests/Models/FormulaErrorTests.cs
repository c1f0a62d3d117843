using Rto.Optimization.Models;

namespace Rto.Optimization.Tests.Models;

[TestClass]
public sealed class FormulaErrorTests
{
    private static FormulaSyntaxException Fail(string text)
    {
        return Assert.ThrowsExactly<FormulaSyntaxException>(() => FormulaModel.Parse("reactor", text, "models/reactor.model"));
    }

    private static void AssertError(string text, int line, int column, string reasonPart)
    {
        FormulaSyntaxException error = Fail(text);
        Assert.AreEqual("models/reactor.model", error.File);
        Assert.AreEqual((line, column), (error.Line, error.Column), error.Message);
        Assert.Contains(reasonPart, error.Reason, error.Message);
        Assert.StartsWith($"models/reactor.model:{line}:{column}: ", error.Message);
    }

    [TestMethod]
    public void UnknownFunctionNamesItWithAHint()
    {
        AssertError("# c\ndescription: d\ncv T = 1 + sqr(x)\nobjective = T\n", 3, 12, "unknown function 'sqr' (use x^2 or pow(x, 2))");
        AssertError("objective = log(x)\n", 1, 13, "use ln for the natural logarithm or log10");
        AssertError("objective = Sin(x)\n", 1, 13, "did you mean 'sin'?");
    }

    [TestMethod]
    public void WrongArgumentCount()
    {
        AssertError("objective = pow(x)\n", 1, 13, "'pow' takes 2 arguments, got 1");
        AssertError("objective = sin(x, y)\n", 1, 13, "'sin' takes 1 argument, got 2");
        AssertError("objective = max(x)\n", 1, 13, "'max' takes 2 or more arguments, got 1");
    }

    [TestMethod]
    public void UnknownVariableWhenInputsAreDeclared()
    {
        AssertError("inputs: x1, x2\ncv T = x1 + x3\nobjective = T\n", 2, 13, "unknown variable 'x3'");
    }

    [TestMethod]
    public void LexicalErrors()
    {
        AssertError("objective = 2 $ x\n", 1, 15, "unexpected character '$'");
        AssertError("objective = [FIC-101.SP + 1\n", 1, 13, "missing ']'");
        AssertError("objective = [ ] + 1\n", 1, 13, "empty name");
        AssertError("objective = 1e+ * x\n", 1, 13, "malformed number '1e+'");
    }

    [TestMethod]
    public void SyntaxErrorsInExpressions()
    {
        AssertError("objective = (x + 1\n", 1, 13, "missing ')'");
        AssertError("objective = x + 1)\n", 1, 18, "unmatched ')'");
        AssertError("objective = x +\n", 1, 16, "expected an expression");
        AssertError("objective = x * * 2\n", 1, 17, "expected an expression, found '*'");
        AssertError("objective = 2 x\n", 1, 15, "unexpected 'x' after the expression");
        AssertError("objective = pow(x, 2\n", 1, 16, "missing ')' to close 'pow('");
    }

    [TestMethod]
    public void StatementErrors()
    {
        AssertError("y = 1\nobjective = 1\n", 1, 1, "expected 'cv NAME = ...'");
        AssertError("cv = 1\nobjective = 1\n", 1, 4, "expected the CV name after 'cv'");
        AssertError("cv T 1\nobjective = 1\n", 1, 6, "expected '='");
        AssertError("cv T = 1\ncv T = 2\nobjective = 1\n", 2, 4, "CV 'T' is defined twice");
        AssertError("objective = 1\nobjective = 2\n", 2, 1, "a second 'objective'");
        AssertError("description: a\ndescription: b\nobjective = 1\n", 2, 1, "a second 'description:'");
        AssertError("cv T = 1\n\ninputs: x\nobjective = 1\n", 3, 1, "'inputs:' must come once");
        AssertError("inputs: x, x\nobjective = 1\n", 1, 12, "input 'x' is listed twice");
        AssertError("inputs: x y\nobjective = 1\n", 1, 11, "expected ','");
        AssertError("inputs: x\ncv x = 1\nobjective = 1\n", 2, 4, "'x' is an input");
        AssertError("cv a = b\ncv b = 1\nobjective = 1\n", 2, 4, "'b' is used as an input above");
        AssertError("# only\ncv T = 1\n", 3, 1, "missing 'objective = ...'");
    }

    [TestMethod]
    public void PathologicalNestingIsAnErrorNotAStackOverflow()
    {
        AssertError("objective = " + new string('(', 100_000) + "1" + new string(')', 100_000) + "\n", 1, 13 + 256, "nested too deeply");
        AssertError("objective = " + new string('-', 100_000) + "1\n", 1, 13 + 256, "nested too deeply");
        AssertError("objective = 1" + string.Concat(Enumerable.Repeat(" + 1", 5_000)) + "\n", 1, 13, "formula too deep");
    }
}
