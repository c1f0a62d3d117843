using Rto.Optimization.Models;

namespace Rto.Optimization.Tests.Models;

[TestClass]
public sealed class ModelBindingTests
{
    private static readonly FormulaModel s_model = FormulaModel.Parse(
        "plant",
        "inputs: x1, x2\ncv T1 = 100 + x1\ncv P = x2 * 10\nobjective = x1 - x2\n",
        "plant.model");

    [TestMethod]
    public void InputsMatchMvsByIdInSessionOrder()
    {
        Assert.IsTrue(ModelBinding.TryCreate(s_model, ["x2", "x1"], [null, null], ["P", "T1"], [null, null], out ModelBinding? binding, out string? error), error);

        double[] cvs = new double[2];
        double objective = binding.Evaluate([5, 3], cvs);

        Assert.AreEqual(3.0 - 5.0, objective);
        CollectionAssert.AreEqual(new[] { 50.0, 103.0 }, cvs);
        Assert.IsEmpty(binding.UnboundConstraints);
    }

    [TestMethod]
    public void InputsFallBackToMvNamesAndAnIdMatchWins()
    {
        // MV 'FIC-1' is named x1, but MV 'x1' matches by id, which comes first.
        Assert.IsTrue(ModelBinding.TryCreate(s_model, ["FIC-1", "FIC-2", "x1"], ["x1", "x2", "other"], ["TI-101", "PI-7"], ["T1", "P"], out ModelBinding? binding, out string? error), error);

        double[] cvs = new double[2];
        double objective = binding.Evaluate([1000, 2, 7], cvs);

        Assert.AreEqual(7.0 - 2.0, objective);
        CollectionAssert.AreEqual(new[] { 107.0, 20.0 }, cvs);
    }

    [TestMethod]
    public void CvsTheModelDoesNotProduceAreNaN()
    {
        Assert.IsTrue(ModelBinding.TryCreate(s_model, ["x1", "x2"], ["", ""], ["T1", "FLOW"], ["", "flow"], out ModelBinding? binding, out string? error), error);

        double[] cvs = new double[2];
        binding.Evaluate([1, 2], cvs);

        Assert.AreEqual(101.0, cvs[0]);
        Assert.IsTrue(double.IsNaN(cvs[1]));
        CollectionAssert.AreEqual(new[] { "FLOW" }, binding.UnboundConstraints.ToArray());
    }

    [TestMethod]
    public void MissingInputsAreNamedInTheError()
    {
        Assert.IsFalse(ModelBinding.TryCreate(s_model, ["FIC-1"], ["flow"], [], [], out ModelBinding? binding, out string? error));

        Assert.IsNull(binding);
        Assert.Contains("'x1', 'x2'", error);
        Assert.Contains("'FIC-1' (flow)", error);
        Assert.Contains("'plant'", error);
    }
}
