using Rto.Server.Optimization;
using Rto.Server.Optimization.Optimizers;

namespace Rto.Server.Tests.Optimization.Optimizers;

/// <summary>One optimizer driven for a number of evaluations, with everything it proposed and was told.</summary>
internal sealed class OptimizerRun
{
    private OptimizerRun(OptimizationProblem problem, List<double[]> candidates, List<Evaluation> evaluations)
    {
        Problem = problem;
        Candidates = candidates;
        Evaluations = evaluations;
    }

    public OptimizationProblem Problem { get; }

    public List<double[]> Candidates { get; }

    public List<Evaluation> Evaluations { get; }

    public static IOptimizer Create(string method, OptimizationProblem problem)
    {
        Assert.IsTrue(OptimizationMethods.TryCreate(method, problem, out IOptimizer? optimizer), method);
        Assert.IsNotNull(optimizer);
        return optimizer;
    }

    public static OptimizerRun Drive(string method, OptimizationProblem problem, Func<double[], Evaluation> evaluate, int evaluations)
    {
        IOptimizer optimizer = Create(method, problem);
        var candidates = new List<double[]>();
        var results = new List<Evaluation>();
        for (int i = 0; i < evaluations; i++)
        {
            double[] candidate = optimizer.Ask();
            Evaluation result = evaluate(candidate);
            optimizer.Tell(candidate, result);
            candidates.Add(candidate);
            results.Add(result);
        }

        return new OptimizerRun(problem, candidates, results);
    }

    /// <summary>The session's answer: the best evaluation by feasibility-first ranking.</summary>
    public (double[] Candidate, Evaluation Evaluation) Best()
    {
        int best = 0;
        for (int i = 1; i < Evaluations.Count; i++)
        {
            Evaluation e = Evaluations[i], b = Evaluations[best];
            if (Feasibility.IsBetter(Problem.Maximize, e.Objective, Feasibility.Violation(Problem, e), b.Objective, Feasibility.Violation(Problem, b)))
            {
                best = i;
            }
        }

        return (Candidates[best], Evaluations[best]);
    }
}
