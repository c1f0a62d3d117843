using Rto.Optimization.Models;

namespace Rto.Optimization.Tests.Models;

[TestClass]
public sealed class FormulaModelTests
{
    private const double Tolerance = 1e-12;

    /// <summary>Evaluates <paramref name="formula"/> as an objective over inputs a = 2, b = 3, c = −0.5.</summary>
    private static double Eval(string formula)
    {
        FormulaModel model = FormulaModel.Parse("t", $"inputs: a, b, c\nobjective = {formula}\n", "t.model");
        return model.Evaluate([2, 3, -0.5], []);
    }

    [TestMethod]
    [DataRow("1 + 2 * 3", 7.0)]
    [DataRow("(1 + 2) * 3", 9.0)]
    [DataRow("10 - 4 - 3", 3.0)]
    [DataRow("24 / 4 / 2", 3.0)]
    [DataRow("2 ^ 3 ^ 2", 512.0)]
    [DataRow("(2 ^ 3) ^ 2", 64.0)]
    [DataRow("-2 ^ 2", -4.0)]
    [DataRow("(-2) ^ 2", 4.0)]
    [DataRow("2 ^ -1", 0.5)]
    [DataRow("--3", 3.0)]
    [DataRow("-a * b", -6.0)]
    [DataRow("a - -b", 5.0)]
    [DataRow("+a", 2.0)]
    [DataRow("2 * -a ^ 2", -8.0)]
    [DataRow("1e-3 * 1E3 + .5 + 2.", 3.5)]
    [DataRow("a^2 + b^3 + a^4 + b^1", 2 * 2 + 27 + 16 + 3.0)]
    public void OperatorsFollowPrecedenceAndAssociativity(string formula, double expected)
    {
        Assert.AreEqual(expected, Eval(formula), Tolerance, formula);
    }

    [TestMethod]
    public void FunctionsAndConstantsMatchMath()
    {
        Assert.AreEqual(Math.Sin(2) + Math.Cos(3) + Math.Tan(-0.5), Eval("sin(a) + cos(b) + tan(c)"), Tolerance);
        Assert.AreEqual(Math.Asin(-0.5) + Math.Acos(-0.5) + Math.Atan(3), Eval("asin(c) + acos(c) + atan(b)"), Tolerance);
        Assert.AreEqual(Math.Exp(2) + Math.Sqrt(3) + Math.Log10(3), Eval("exp(a) + sqrt(b) + log10(b)"), Tolerance);
        Assert.AreEqual(Math.Pow(3, -0.5) + 0.5 + Math.Log(2), Eval("pow(b, c) + abs(c) + ln(a)"), Tolerance);
        Assert.AreEqual(Math.Pow(2, 3.5), Eval("a ^ (b + 0.5)"), Tolerance);
        Assert.AreEqual(9.0, Eval("pow(b, 2)"), Tolerance);
        Assert.AreEqual(-0.5 + 3, Eval("min(a, b, c) + max(a, b)"), Tolerance);
        Assert.AreEqual(Math.Atan2(3, 2), Eval("atan2(b, a)"), Tolerance);
        Assert.AreEqual(Math.PI * 2 + Math.E, Eval("pi * a + e"), Tolerance);
    }

    [TestMethod]
    public void DivisionByZeroAndDomainErrorsAreValuesNotErrors()
    {
        Assert.IsTrue(double.IsPositiveInfinity(Eval("a / 0")));
        Assert.IsTrue(double.IsNaN(Eval("sqrt(c)")));
        Assert.IsTrue(double.IsNaN(Eval("0 / 0")));
    }

    [TestMethod]
    public void CvsAreComputedInFileOrderAndMayUseEarlierCvs()
    {
        const string Text = """
            # a comment
            description: Reactor yield model   # not a comment: descriptions are verbatim
            cv T1 = 300 + 2.5*x1 - sqrt(abs(x2))
            cv P = pow(x1, 2) / (1 + exp(-x2))
            cv [TI-101.PV] = T1 / 2 + TAG.101
            objective = 10 - (x1-2)^2
                - (x2+3)^2   # continued
            """;
        FormulaModel model = FormulaModel.Parse("reactor", Text, "reactor.model");

        Assert.AreEqual("Reactor yield model   # not a comment: descriptions are verbatim", model.Description);
        CollectionAssert.AreEqual(new[] { "x1", "x2", "TAG.101" }, model.Inputs.ToArray());
        CollectionAssert.AreEqual(new[] { "T1", "P", "TI-101.PV" }, model.Outputs.ToArray());
        double[] outputs = new double[3];
        double objective = model.Evaluate([1, -4, 7], outputs);
        Assert.AreEqual(300 + 2.5 - 2, outputs[0], Tolerance);
        Assert.AreEqual(1 / (1 + Math.Exp(4)), outputs[1], Tolerance);
        Assert.AreEqual((300 + 2.5 - 2) / 2 + 7, outputs[2], Tolerance);
        Assert.AreEqual(10 - 1 - 1, objective, Tolerance);
    }

    [TestMethod]
    public void DeclaredInputsFixTheOrderAndBracketsMakeAnyNameAVariable()
    {
        FormulaModel declared = FormulaModel.Parse("m", "inputs: [FIC-101.SP], e, unused\nobjective = 2*[FIC-101.SP] + e\n", "m.model");
        CollectionAssert.AreEqual(new[] { "FIC-101.SP", "e", "unused" }, declared.Inputs.ToArray());
        Assert.AreEqual(0, declared.Outputs.Count);
        Assert.AreEqual(12.0, declared.Evaluate([1, 10, 99], []), Tolerance, "a declared 'e' is the MV, not the constant");

        FormulaModel implicitInputs = FormulaModel.Parse("m", "objective = [pi] + pi + e\n", "m.model");
        CollectionAssert.AreEqual(new[] { "pi" }, implicitInputs.Inputs.ToArray());
        Assert.AreEqual(1 + Math.PI + Math.E, implicitInputs.Evaluate([1], []), Tolerance);
    }

    [TestMethod]
    public void TheDocumentedExampleCompiles()
    {
        const string Text = """
            # Sample reactor model (a '#' starts a comment, to the end of the line).
            description: Reactor yield, limited by temperature

            # Optional. When present it fixes the input order and any other name is an error.
            inputs: x1, x2, x3, [FIC-101.SP]

            cv temperature = 350 + 8*x1 - 2*x2 + 3*x3
            cv pressure    = 5 + 0.5*x1*[FIC-101.SP] + 0.1*x3^2
                - 0.05*sqrt(abs(x2))          # an indented line continues the statement above
            cv margin      = 380 - temperature      # a CV may use the CVs defined above it

            objective = 10 - (x1 - 2)^2 - (x2 + 3)^2 - (x3 - 4)^2 - ([FIC-101.SP] - 1)^2
            """;
        FormulaModel model = FormulaModel.Parse("reactor", Text, "reactor.model");
        double[] cvs = new double[3];

        Assert.AreEqual(10.0, model.Evaluate([2, -3, 4, 1], cvs), Tolerance);
        Assert.AreEqual(384.0, cvs[0], Tolerance);
        Assert.AreEqual(5 + 1 + 1.6 - 0.05 * Math.Sqrt(3), cvs[1], Tolerance);
        Assert.AreEqual(-4.0, cvs[2], Tolerance);
    }

    [TestMethod]
    public void ConcurrentEvaluationsDoNotShareState()
    {
        FormulaModel model = FormulaModel.Parse("m", "cv y = x * 2\nobjective = y + x\n", "m.model");
        Parallel.For(0, 4, worker =>
        {
            Span<double> y = stackalloc double[1];
            for (int i = 0; i < 20_000; i++)
            {
                double x = worker * 1_000_000 + i;
                double objective = model.Evaluate([x], y);
                if (y[0] != 2 * x || objective != 3 * x)
                {
                    throw new AssertFailedException($"worker {worker} got y={y[0]}, objective={objective} for x={x}");
                }
            }
        });
    }
}
