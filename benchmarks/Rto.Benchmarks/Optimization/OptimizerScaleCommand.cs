using System.Diagnostics;
using System.Globalization;
using Rto.Optimization;

namespace Rto.Benchmarks.Optimization;

/// <summary>
/// <c>optimizers scale [--sizes 10,50,100,200,1000] [--methods TrustRegion,...] [--extra 50]</c>: the cost
/// of one Ask + Tell as the number of variables grows (issue 15). Per method and size, one session of
/// 2n + 1 + extra evaluations (the trust region's axis design, then its model steps) of a weighted
/// sphere with a limited mean and a never-binding limit: mean and largest milliseconds per call (the
/// mean of the calls after the first 2n + 1 too, where the trust region fits models), allocation per
/// call, the managed memory the optimizer holds at the end, and what is left after dropping it.
/// </summary>
public static class OptimizerScaleCommand
{
    public static int Run(string[] args)
    {
        int[] sizes = [.. Option(args, "--sizes", "10,50,100,200,1000").Split(',').Select(s => int.Parse(s, CultureInfo.InvariantCulture))];
        string[] methods = Option(args, "--methods", string.Join(',', Methods)).Split(',');
        int extra = int.Parse(Option(args, "--extra", "50"), CultureInfo.InvariantCulture);
        Console.WriteLine($"one session per method and size: 2n+1+{extra} evaluations; {Environment.ProcessorCount} cores, {Environment.Version}");
        Console.WriteLine($"{"method",-22} {"n",5} {"calls",6} {"ms/call",8} {"model ms",9} {"max ms",7} {"KB/call",8} {"held MB",8} {"left MB",8}");
        foreach (string method in methods)
        {
            foreach (int n in sizes)
            {
                Measure(method, n, (2 * n) + 1 + extra);
            }
        }

        return 0;
    }

    private static readonly string[] Methods =
    [
        OptimizationMethods.TrustRegion, OptimizationMethods.NelderMead, OptimizationMethods.PatternSearch,
        OptimizationMethods.DifferentialEvolution, OptimizationMethods.GeneticAlgorithm, OptimizationMethods.SimulatedAnnealing,
    ];

    private static void Measure(string method, int n, int calls)
    {
        var problem = new OptimizationProblem(
            [.. Enumerable.Range(0, n).Select(i => DecisionVariable.Continuous($"x{i}", -10, 10))],
            [Constraint.AtMost("mean", 5), Constraint.Between("first", -1000, 1000)],
            maximize: false,
            calls);
        long baseline = FullHeap();
        long allocatedBefore = GC.GetTotalAllocatedBytes(precise: true);
        var optimizer = Optimizer.Create(method, problem, seed: 1);
        double total = 0, model = 0, largest = 0;
        for (int k = 0; k < calls; k++)
        {
            long start = Stopwatch.GetTimestamp();
            double[] x = optimizer.Ask();
            optimizer.Tell(x, Evaluate(x));
            double ms = Stopwatch.GetElapsedTime(start).TotalMilliseconds;
            total += ms;
            model += k > 2 * n ? ms : 0;
            largest = Math.Max(largest, ms);
        }

        long allocated = GC.GetTotalAllocatedBytes(precise: true) - allocatedBefore;
        long held = FullHeap() - baseline;
        GC.KeepAlive(optimizer);
        optimizer = null;
        long left = FullHeap() - baseline;
        int modelCalls = calls - ((2 * n) + 1);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{method,-22} {n,5} {calls,6} {total / calls,8:0.000} {model / Math.Max(modelCalls, 1),9:0.000} {largest,7:0.0} {allocated / 1024.0 / calls,8:0.0} {held / 1048576.0,8:0.0} {left / 1048576.0,8:0.00}"));
    }

    private static Evaluation Evaluate(double[] x)
    {
        double f = 0, sum = 0;
        for (int i = 0; i < x.Length; i++)
        {
            double d = x[i] - 1 - (0.01 * i);
            f += d * d * (1 + (i % 3));
            sum += x[i];
        }

        return new Evaluation(f, [sum / x.Length, x[0]]);
    }

    private static long FullHeap()
    {
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(2, GCCollectionMode.Forced, blocking: true, compacting: true);
        return GC.GetTotalMemory(forceFullCollection: true);
    }

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
