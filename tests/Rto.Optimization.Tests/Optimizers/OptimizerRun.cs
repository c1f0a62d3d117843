namespace Rto.Optimization.Tests.Optimizers;

/// <summary>One optimizer driven for a number of evaluations, with everything it proposed and was told.</summary>
internal sealed class OptimizerRun
{
    private OptimizerRun(Optimizer optimizer, OptimizationProblem problem, List<double[]> candidates, List<Evaluation> evaluations)
    {
        Optimizer = optimizer;
        Problem = problem;
        Candidates = candidates;
        Evaluations = evaluations;
    }

    public Optimizer Optimizer { get; }

    public OptimizationProblem Problem { get; }

    public List<double[]> Candidates { get; }

    public List<Evaluation> Evaluations { get; }

    public static Optimizer Create(string method, OptimizationProblem problem, int seed)
    {
        Assert.IsTrue(Optimizer.TryCreate(method, problem, seed, out Optimizer? optimizer), method);
        Assert.IsNotNull(optimizer);
        return optimizer;
    }

    public static OptimizerRun Drive(string method, OptimizationProblem problem, int seed, Func<double[], Evaluation> evaluate, int evaluations)
    {
        Optimizer optimizer = Create(method, problem, seed);
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

        return new OptimizerRun(optimizer, problem, candidates, results);
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
