namespace Rto.Optimization.Tests.Optimizers;

/// <summary>
/// Issue 15: one call of the default method once took 4.75 s with 50 variables and over 120 s with 200,
/// and gigabytes stayed after the session ended. Every method's step is now bounded: these tests pin it
/// by allocation (deterministic, unlike time on a shared machine) and check a dropped optimizer is collected.
/// </summary>
[TestClass]
public sealed class ManyVariablesTests
{
    public static IEnumerable<object[]> Methods => OptimizationMethods.Known.Select(m => new object[] { m });

    private static OptimizationProblem Problem(int n, int budget) => new(
        [.. Enumerable.Range(0, n).Select(i => DecisionVariable.Continuous($"x{i}", -10, 10))],
        [Constraint.AtMost("mean", 5), Constraint.Between("first", -1000, 1000)],
        maximize: false,
        budget);

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

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void EveryStepWith300VariablesAllocatesAFewMegabytesAtMost(string method)
    {
        const int n = 300;
        int evaluations = (2 * n) + 1 + 8; // past the trust region's axis design into its model steps
        Optimizer optimizer = Optimizer.Create(method, Problem(n, evaluations), seed: 2);
        long largest = 0;
        for (int k = 0; k < evaluations; k++)
        {
            long before = GC.GetAllocatedBytesForCurrentThread();
            double[] x = optimizer.Ask();
            optimizer.Tell(x, Evaluate(x));
            largest = Math.Max(largest, GC.GetAllocatedBytesForCurrentThread() - before);
        }

        // The quadratic model of 300 variables has 45,451 terms: the old fit allocated gigabytes per call.
        Assert.IsLessThan(4L << 20, largest, $"{method}: a call allocated {largest / 1024} KB");
        Assert.IsTrue(double.IsFinite(optimizer.Best!.Objective));
    }

    [TestMethod]
    [DynamicData(nameof(Methods))]
    public void ADroppedOptimizerIsCollected(string method)
    {
        WeakReference dropped = Run(method);
        for (int i = 0; i < 5 && dropped.IsAlive; i++)
        {
            GC.Collect(2, GCCollectionMode.Forced, blocking: true);
            GC.WaitForPendingFinalizers();
        }

        Assert.IsFalse(dropped.IsAlive, $"{method}: nothing outside the optimizer may keep it (a static cache, an event)");
    }

    [System.Runtime.CompilerServices.MethodImpl(System.Runtime.CompilerServices.MethodImplOptions.NoInlining)]
    private static WeakReference Run(string method)
    {
        Optimizer optimizer = Optimizer.Create(method, Problem(60, 200), seed: 4);
        for (int k = 0; k < 150; k++)
        {
            double[] x = optimizer.Ask();
            optimizer.Tell(x, Evaluate(x));
        }

        return new WeakReference(optimizer);
    }
}
