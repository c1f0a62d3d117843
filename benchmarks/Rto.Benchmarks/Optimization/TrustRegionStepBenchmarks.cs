using BenchmarkDotNet.Attributes;
using Rto.Optimization;
using Rto.Optimization.Models;

namespace Rto.Benchmarks.Optimization;

/// <summary>
/// CPU cost of one Ask + Tell of the default method (the trust-region optimizer), per evaluation,
/// averaged over a whole 60-evaluation session on each built-in model (the model evaluation itself is
/// nanoseconds). The session's other work (gRPC, session file) is not included.
/// </summary>
[MemoryDiagnoser]
public class TrustRegionStepBenchmarks
{
    private const int Evaluations = 60;

    [Params("parabola4", "parabola4-constrained", "rosenbrock", "intbool", "plant6-linear", "plant8-nonlinear")]
    public string Model { get; set; } = "parabola4";

    [Benchmark(OperationsPerInvoke = Evaluations)]
    public double AskTell()
    {
        BuiltInModel model = BuiltInModels.All.Single(m => m.Id == Model);
        var optimizer = Optimizer.Create("", model.CreateProblem(Evaluations), seed: 1);
        double last = 0;
        for (int i = 0; i < Evaluations; i++)
        {
            double[] candidate = optimizer.Ask();
            Evaluation evaluation = model.EvaluateCandidate(candidate);
            optimizer.Tell(candidate, evaluation);
            last = evaluation.Objective;
        }

        return last;
    }
}
