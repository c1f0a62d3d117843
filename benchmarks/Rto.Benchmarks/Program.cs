using BenchmarkDotNet.Running;
using Rto.Benchmarks.Load;

namespace Rto.Benchmarks;

/// <summary>
/// <c>load ...</c> drives a real server over TCP, <c>fuzz ...</c> runs the parsers' fuzz targets for a fixed time, <c>jobs ...</c> times a Parquet job against numpy, <c>optimizers ...</c> compares the
/// RTO optimizers with scipy and NLopt (<c>optimizers scale</c>: cost per call against the number of variables;
/// <c>optimizers throughput</c>: Ask + Tell per second without the server); everything else goes to BenchmarkDotNet
/// (e.g. <c>--filter '*MetricStore*'</c>, <c>--list flat</c>, <c>--job short</c>).
/// </summary>
/// <remarks>
/// A named class rather than top-level statements: the server's own top-level <c>Program</c> is
/// visible here through InternalsVisibleTo and would clash.
/// </remarks>
public static class Program
{
    public static async Task<int> Main(string[] args)
    {
        if (args.Length > 0 && args[0] == "load")
        {
            return await LoadCommand.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "fuzz")
        {
            return Fuzz.FuzzCommand.Run(args[1..]);
        }

        if (args.Length > 0 && args[0] == "jobs")
        {
            return await Jobs.JobTimingCommand.RunAsync(args[1..]);
        }

        if (args is ["optimizers", "scale", ..])
        {
            return Optimization.OptimizerScaleCommand.Run(args[2..]);
        }

        if (args is ["optimizers", "throughput", ..])
        {
            return Optimization.OptimizerThroughputCommand.Run(args[2..]);
        }

        if (args.Length > 0 && args[0] == "optimizers")
        {
            return await Optimization.OptimizerComparisonCommand.RunAsync(args[1..]);
        }

        BenchmarkSwitcher.FromAssembly(typeof(Program).Assembly).Run(args);
        return 0;
    }
}
