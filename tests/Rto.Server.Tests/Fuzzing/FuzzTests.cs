using Rto.Fuzzing;

namespace Rto.Server.Tests.Fuzzing;

/// <summary>
/// Every parser's fuzz target for two seconds from a random seed: a failure names the shrunk
/// input and the seed (replay it with <c>Rto.Benchmarks fuzz --target NAME --seed SEED</c>).
/// The long runs are in the benchmarks (docs/performance.md).
/// </summary>
[TestClass]
public sealed class FuzzTests
{
    public static IEnumerable<object[]> Targets => FuzzTarget.All.Select(t => new object[] { t.Name });

    [TestMethod]
    [DynamicData(nameof(Targets))]
    public void RunsCleanForTwoSeconds(string name)
    {
        FuzzTarget target = FuzzTarget.All.Single(t => t.Name == name);

        FuzzResult result = target.Run(new FuzzSettings(TimeSpan.FromSeconds(2)));

        Assert.IsNull(result.Failure, $"{name}: {result.Failure}");
        Assert.IsGreaterThan(100L, result.Inputs, $"{name} checked only {result.Inputs} inputs in {result.Elapsed.TotalSeconds:0.0} s");
    }
}
