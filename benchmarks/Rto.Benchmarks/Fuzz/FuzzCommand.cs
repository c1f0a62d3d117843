using System.Globalization;
using Rto.Fuzzing;

namespace Rto.Benchmarks.Fuzz;

/// <summary>
/// <c>fuzz [--seconds 60] [--target NAME] [--threads 1] [--seed SEED]</c>: runs each parser's fuzz
/// target (tests/Rto.Fuzzing) for a fixed time and prints how many inputs it checked, the slowest
/// one, and the first failure (shrunk, with the seed to replay it). Exits 1 when any target failed.
/// </summary>
public static class FuzzCommand
{
    private const string Usage = "usage: fuzz [--seconds 60] [--target " + "NAME] [--threads 1] [--seed SEED]";

    public static int Run(string[] args)
    {
        int seconds = 60, threads = 1;
        string? only = null, seed = null;
        for (int i = 0; i < args.Length; i++)
        {
            string? value = i + 1 < args.Length ? args[i + 1] : null;
            switch (args[i])
            {
                case "--seconds" when int.TryParse(value, CultureInfo.InvariantCulture, out seconds) && seconds > 0:
                case "--threads" when int.TryParse(value, CultureInfo.InvariantCulture, out threads) && threads > 0:
                    i++;
                    break;
                case "--target" when value is not null:
                    only = value;
                    i++;
                    break;
                case "--seed" when value is not null:
                    seed = value;
                    i++;
                    break;
                default:
                    Console.Error.WriteLine($"unknown or bad argument '{args[i]}'{Environment.NewLine}{Usage}{Environment.NewLine}targets: {string.Join(", ", FuzzTarget.All.Select(t => t.Name))}");
                    return 2;
            }
        }

        FuzzTarget[] targets = [.. FuzzTarget.All.Where(t => only is null || t.Name == only)];
        if (targets.Length == 0)
        {
            Console.Error.WriteLine($"no target '{only}'; targets: {string.Join(", ", FuzzTarget.All.Select(t => t.Name))}");
            return 2;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"fuzz: {seconds} s per target, {threads} thread(s), {Environment.ProcessorCount} cores"));
        bool clean = true;
        foreach (FuzzTarget target in targets)
        {
            Console.WriteLine($"{target.Name}: {target.Description}");
            FuzzResult result = target.Run(new FuzzSettings(TimeSpan.FromSeconds(seconds), Threads: threads, Seed: seed));
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
                $"  {(result.Clean ? "clean" : "FAILED")}: {result.Inputs:N0} inputs in {result.Elapsed.TotalSeconds:0.0} s ({result.Inputs / result.Elapsed.TotalSeconds:N0}/s), slowest input {result.SlowestInput.TotalMilliseconds:0.0} ms"));
            if (!result.Clean)
            {
                Console.WriteLine(result.Failure);
                clean = false;
            }
        }

        return clean ? 0 : 1;
    }
}
