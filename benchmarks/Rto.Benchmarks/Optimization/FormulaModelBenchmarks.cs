using BenchmarkDotNet.Attributes;
using Rto.Optimization;
using Rto.Optimization.Models;

namespace Rto.Benchmarks.Optimization;

/// <summary>
/// One CalculateCV evaluation of a formula model: the sample reactor (4 MVs, 2 CVs, a paraboloid
/// objective), directly and through a session binding, against the hand-written built-in parabola.
/// Target: sub-microsecond, 0 B. <see cref="ParseAndCompile"/> is the one-time cost of a (re)load.
/// </summary>
[MemoryDiagnoser]
public class FormulaModelBenchmarks
{
    private const string Text = """
        inputs: x1, x2, x3, x4
        cv temperature = 350 + 8*x1 - 2*x2 + 3*x3
        cv pressure = 5 + 0.5*x1*x4 + 0.1*x3^2 - 0.05*sqrt(abs(x2))
        objective = 10 - (x1 - 2)^2 - (x2 + 3)^2 - (x3 - 4)^2 - (x4 - 1)^2
        """;

    private readonly double[] _mvs = [1.5, -2.5, 3.5, 0.5];
    private readonly double[] _cvs = new double[2];
    private FormulaModel _model = null!;
    private ModelBinding _binding = null!;
    private ProcessModel _parabola = null!;

    [GlobalSetup]
    public void Setup()
    {
        _model = FormulaModel.Parse("reactor", Text, "reactor.model");
        _parabola = BuiltInModels.All.First(m => m.Inputs.Count == 4);
        // Variables and constraints named like plant tags, matched to the model's inputs and outputs by name.
        var problem = new OptimizationProblem(
            [.. Enumerable.Range(1, 4).Select(i => DecisionVariable.Continuous($"FIC-{i}", -10, 10) with { Name = $"x{i}" })],
            [Constraint.Unlimited("TI-1") with { Name = "temperature" }, Constraint.Unlimited("PI-1") with { Name = "pressure" }],
            maximize: true,
            maxEvaluations: 1);
        if (!ModelBinding.TryCreate(_model, problem, out ModelBinding? binding, out string? error))
        {
            throw new InvalidOperationException(error);
        }

        _binding = binding;
    }

    [Benchmark(Baseline = true)]
    public double BuiltInParabola() => _parabola.Evaluate(_mvs, _cvs);

    [Benchmark]
    public double FormulaEvaluate() => _model.Evaluate(_mvs, _cvs);

    [Benchmark]
    public double BindingEvaluate() => _binding.Evaluate(_mvs, _cvs);

    [Benchmark]
    public FormulaModel ParseAndCompile() => FormulaModel.Parse("reactor", Text, "reactor.model");
}
