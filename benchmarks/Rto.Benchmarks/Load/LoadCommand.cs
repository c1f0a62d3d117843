namespace Rto.Benchmarks.Load;

/// <summary>Entry point of <c>load &lt;target&gt; [options]</c>.</summary>
internal static class LoadCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        if (args.Length > 0 && args[0] == "messenger")
        {
            return await MessengerFanOutLoad.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "meters")
        {
            return await MeterIngestLoad.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "cluster")
        {
            return await ClusterLoad.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "cluster-optimization")
        {
            return await ClusterOptimizationLoad.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "connections")
        {
            return await ConnectionAbuseLoad.RunAsync(args[1..]);
        }

        if (args.Length > 0 && args[0] == "optimization")
        {
            return await OptimizationSessionLoad.RunAsync(args[1..]);
        }

        if (args.Length == 0 || args[0] != "metrics")
        {
            await Console.Error.WriteLineAsync(LoadOptions.Usage);
            return 2;
        }

        LoadOptions options;
        try
        {
            options = LoadOptions.Parse(args[1..]);
        }
        catch (FormatException ex)
        {
            await Console.Error.WriteLineAsync(ex.Message + Environment.NewLine + LoadOptions.Usage);
            return 2;
        }

        return await MetricsLoadGenerator.RunAsync(options);
    }
}
