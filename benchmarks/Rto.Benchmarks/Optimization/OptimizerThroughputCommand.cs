using System.Diagnostics;
using System.Globalization;
using Rto.Optimization;
using Rto.Optimization.Models;

namespace Rto.Benchmarks.Optimization;

/// <summary>
/// <c>optimizers throughput [--sessions 64] [--budget 100] [--threads N] [--duration 10] [--warmup 2]
/// [--method ""] [--models load,parabola4,...]</c>: Ask + Tell per second of the library alone, the way
/// <c>load optimization --sessions 64 --budget 100</c> drives the server but without gRPC, session files or the
/// load generator. Each thread steps its share of the sessions round-robin (one evaluation per session in
/// turn, as interleaved requests would); a session that spent its budget is replaced by a fresh one with
/// a new seed. <c>load</c> is the load generator's problem (parabola4 maximised, CV y ≥ −1000 that never
/// binds); the other names are built-in models. CPU µs per call is the process's CPU time (every thread,
/// the GC's included) over the calls in the window: on a machine shared with other work it stays
/// meaningful where calls per second do not.
/// </summary>
public static class OptimizerThroughputCommand
{
    public static int Run(string[] args)
    {
        int sessions = Int(args, "--sessions", 64), budget = Int(args, "--budget", 100);
        int threads = Int(args, "--threads", Environment.ProcessorCount);
        double duration = Int(args, "--duration", 10), warmup = Int(args, "--warmup", 2);
        string method = Option(args, "--method", "");
        string[] models = Option(args, "--models", "load," + string.Join(',', BuiltInModels.All.Select(m => m.Id))).Split(',');
        Console.WriteLine($"{sessions} sessions of {budget} evaluations back to back on {threads} threads, method '{method}', warm-up {warmup} s, {duration} s; {Environment.ProcessorCount} cores, {Environment.Version}, server GC {System.Runtime.GCSettings.IsServerGC}");
        Console.WriteLine($"{"problem",-22} {"Ask+Tell/s",11} {"CPU µs/call",12} {"KB/call",8} {"gen0",6} {"gen1",6} {"gen2",6}");
        // One unmeasured pass over every problem first: the JIT's second tier compiles in the background, and on a
        // busy machine the first problem measured would otherwise pay for it (4x on `load` in one run).
        foreach (string id in models)
        {
            Measure(id, method, sessions, budget, threads, TimeSpan.Zero, TimeSpan.FromSeconds(warmup), report: false);
        }

        foreach (string id in models)
        {
            Measure(id, method, sessions, budget, threads, TimeSpan.FromSeconds(warmup), TimeSpan.FromSeconds(duration), report: true);
        }

        return 0;
    }

    private static void Measure(string id, string method, int sessions, int budget, int threads, TimeSpan warmup, TimeSpan duration, bool report)
    {
        (Func<OptimizationProblem> create, Func<double[], Evaluation> evaluate) = Problem(id, budget);
        long calls;
        bool measuring = false, stop = false;
        long[] counts = new long[threads];
        var workers = new Thread[threads];
        int nextSeed = 0;
        for (int t = 0; t < threads; t++)
        {
            int worker = t;
            workers[t] = new Thread(() =>
            {
                int mine = (sessions / threads) + (worker < sessions % threads ? 1 : 0);
                var running = new Optimizer[mine];
                var told = new int[mine];
                for (int s = 0; s < mine; s++)
                {
                    running[s] = Optimizer.Create(method, create(), Interlocked.Increment(ref nextSeed));
                }

                while (!Volatile.Read(ref stop))
                {
                    for (int s = 0; s < mine; s++)
                    {
                        if (told[s] == budget)
                        {
                            running[s] = Optimizer.Create(method, create(), Interlocked.Increment(ref nextSeed));
                            told[s] = 0;
                        }

                        double[] x = running[s].Ask();
                        running[s].Tell(x, evaluate(x));
                        told[s]++;
                        if (Volatile.Read(ref measuring))
                        {
                            counts[worker]++;
                        }
                    }
                }
            })
            { IsBackground = true, Name = $"throughput-{t}" };
            workers[t].Start();
        }

        Thread.Sleep(warmup);
        int gen0 = GC.CollectionCount(0), gen1 = GC.CollectionCount(1), gen2 = GC.CollectionCount(2);
        long allocated = GC.GetTotalAllocatedBytes(precise: false);
        using var process = Process.GetCurrentProcess();
        TimeSpan cpu = process.TotalProcessorTime;
        var clock = Stopwatch.StartNew();
        Volatile.Write(ref measuring, true);
        Thread.Sleep(duration);
        Volatile.Write(ref measuring, false);
        double seconds = clock.Elapsed.TotalSeconds;
        process.Refresh();
        cpu = process.TotalProcessorTime - cpu;
        allocated = GC.GetTotalAllocatedBytes(precise: false) - allocated;
        (gen0, gen1, gen2) = (GC.CollectionCount(0) - gen0, GC.CollectionCount(1) - gen1, GC.CollectionCount(2) - gen2);
        Volatile.Write(ref stop, true);
        foreach (Thread worker in workers)
        {
            worker.Join();
        }

        calls = counts.Sum();
        if (!report || calls == 0)
        {
            return;
        }

        Console.WriteLine(string.Create(CultureInfo.InvariantCulture,
            $"{id,-22} {calls / seconds,11:0} {cpu.TotalMicroseconds / calls,12:0.0} {allocated / 1024.0 / calls,8:0.00} {gen0,6} {gen1,6} {gen2,6}"));
    }

    private static (Func<OptimizationProblem> Create, Func<double[], Evaluation> Evaluate) Problem(string id, int budget)
    {
        if (id == "load")
        {
            // What `load optimization` sends: 4 MVs on [-10, 10], maximise, CV y with bounds [-1000, double.MaxValue].
            var problem = new OptimizationProblem(
                [.. Enumerable.Range(1, 4).Select(i => DecisionVariable.Continuous($"x{i}", -10, 10))],
                [Constraint.Between("y", -1000, double.MaxValue)],
                maximize: true,
                budget);
            return (() => problem, LoadEvaluation);
        }

        BuiltInModel model = BuiltInModels.All.Single(m => m.Id == id);
        OptimizationProblem shared = model.CreateProblem(budget);
        return (() => shared, model.EvaluateCandidate);
    }

    /// <summary>The load generator's evaluation: the parabola, reported as the objective and as CV y.</summary>
    private static Evaluation LoadEvaluation(double[] x)
    {
        double y = 10 - ((x[0] - 2) * (x[0] - 2)) - ((x[1] + 3) * (x[1] + 3)) - ((x[2] - 4) * (x[2] - 4)) - ((x[3] - 1) * (x[3] - 1));
        return new Evaluation(y, [y]);
    }

    private static int Int(string[] args, string name, int fallback) => int.Parse(Option(args, name, fallback.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
