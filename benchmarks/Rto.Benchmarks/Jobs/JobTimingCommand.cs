using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using Rto.Protocols.Jobs;
using Rto.Server.Jobs;

namespace Rto.Benchmarks.Jobs;

/// <summary>
/// <c>jobs [--rows N] [--repeat R] [--threads T] [--dir DIR] [--numpy SCRIPT] [--managed] [--fft-only] [--new-plans]</c>: runs
/// the FFT, stats and SQL tasks R times (default 5) over an N-row Parquet time series (default
/// 10,000,000) through the server's own job executor, on a job thread as the server runs them, with
/// the default <c>Jobs:MaxJobMemory</c> and <c>Jobs:ThreadsPerJob</c> = T (default: the cores). It
/// prints every FFT run split into read / plan / transform / write with the process's peak and
/// remaining memory, and the medians; then times the transform alone on the same samples in .NET
/// and in numpy (Debian's <c>/usr/bin/python3</c>, python3-numpy) in the same run, and with
/// <c>--managed</c> also the MathNet.Numerics fallback (slow: a minute at 10 M samples) and its
/// peak memory. <c>--fft-only</c> runs just the FFT job; <c>--new-plans</c> drops FFTW's plans
/// before every run, so that each one plans (the first job of a length). Each run also shows the CPU time the
/// process used, which says more than the wall time when other work shares the cores.
/// </summary>
public static class JobTimingCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        long rows = long.Parse(Option(args, "--rows", "10000000"), CultureInfo.InvariantCulture);
        int repeat = int.Parse(Option(args, "--repeat", "5"), CultureInfo.InvariantCulture);
        int threads = int.Parse(Option(args, "--threads", Environment.ProcessorCount.ToString(CultureInfo.InvariantCulture)), CultureInfo.InvariantCulture);
        string directory = Path.GetFullPath(Option(args, "--dir", Path.Combine(Path.GetTempPath(), "rto-job-timing")));
        string script = Option(args, "--numpy", Path.Combine("benchmarks", "fft_numpy.py"));
        Directory.CreateDirectory(directory);
        Console.WriteLine($"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ}, {Environment.ProcessorCount} cores ({CpuModel()}), load average {LoadAverage()}, FFT engine {SpectrumTransform.Engine}, {threads} thread(s) per job");

        string input = Path.Combine(directory, "time_series.parquet");
        var watch = Stopwatch.StartNew();
        JobSamples.WriteTimeSeries(input, rows);
        Console.WriteLine($"input: {rows:N0} rows, {new FileInfo(input).Length / 1e6:0.0} MB Parquet, generated in {watch.Elapsed.TotalSeconds:0.00} s");

        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "fft values\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "stats.task"), "stats values\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "work.sql"), "SELECT floor(time) AS second, avg(values) AS mean, max(values) AS peak FROM input GROUP BY 1 ORDER BY 1\n");

        var options = new JobsOptions { ThreadsPerJob = threads };
        var executor = new JobExecutor(new DataRoots([directory]), Options.Create(options));
        Console.WriteLine($"Jobs:MaxJobMemory {options.MaxJobMemory:N0} bytes; this FFT is allowed {SpectrumTransform.RequiredBytes(rows) >> 20} MiB ({SpectrumTransform.BytesPerSample(rows)} bytes per sample)");
        Console.WriteLine("job          total      read      plan transform     write       cpu   peak RSS (+job)   RSS after");
        var fft = new List<double[]>();
        foreach (string task in args.Contains("--fft-only") ? ["fft.task"] : new[] { "fft.task", "stats.task", "work.sql" })
        {
            var totals = new List<double>();
            for (int run = 0; run < repeat; run++)
            {
                if (args.Contains("--new-plans"))
                {
                    FftwPlans.Clear();
                }

                long before = ProcessMemory.ResetPeak();
                TimeSpan cpuBefore = Process.GetCurrentProcess().TotalProcessorTime;
                watch.Restart();
                (JobOutcome outcome, JobPhaseTimes times) = await JobThread.Run(
                    () => (executor.Execute(new JobRequest { Directory = directory, Base = "time_series.parquet", File = task }, CancellationToken.None, out JobPhaseTimes t), t), 0, "Rto job");
                double total = watch.Elapsed.TotalSeconds;
                double cpu = (Process.GetCurrentProcess().TotalProcessorTime - cpuBefore).TotalSeconds;
                long peak = ProcessMemory.Read("VmHWM"), after = ProcessMemory.Read("VmRSS");
                if (outcome.Error is not null)
                {
                    Console.Error.WriteLine($"{task}: {outcome.Error}");
                    return 1;
                }

                totals.Add(total);
                string memory = $"{cpu,7:0.000} s {peak >> 20,7} MiB (+{(peak - before) >> 20,4}) {after >> 20,7} MiB";
                if (task == "fft.task")
                {
                    TimeSpan transform = times.Compute - times.Planning;
                    fft.Add([total, times.Read.TotalSeconds, times.Planning.TotalSeconds, transform.TotalSeconds, times.Write.TotalSeconds, cpu, (peak - before) / (double)rows]);
                    Console.WriteLine($"{task,-10} {total,7:0.000} s {times.Read.TotalSeconds,7:0.000} s {times.Planning.TotalSeconds,7:0.000} s {transform.TotalSeconds,7:0.000} s {times.Write.TotalSeconds,7:0.000} s {memory}");
                }
                else
                {
                    // SQL and stats run as one DuckDB COPY: read, compute and write overlap, so only the total is meaningful.
                    Console.WriteLine($"{task,-10} {total,7:0.000} s   (one DuckDB pipeline)                   {memory}");
                }
            }

            if (task == "fft.task")
            {
                double M(int i) => Median(fft.Select(r => r[i]));
                Console.WriteLine($"fft median {M(0),7:0.000} s {M(1),7:0.000} s {M(2),7:0.000} s {M(3),7:0.000} s {M(4),7:0.000} s {M(5),7:0.000} s   peak +{M(6):0.0} bytes per sample");
            }
            else
            {
                Console.WriteLine($"{task[..task.IndexOf('.')]} median {Median(totals),7:0.000} s");
            }
        }

        FftwPlans.Clear();
        Console.WriteLine($"RSS with FFTW's plans dropped: {ProcessMemory.Read("VmRSS") >> 20} MiB");
        if (args.Contains("--fft-only"))
        {
            return 0;
        }

        double[] samples = ReadValues(input);
        TimeTransform(samples, repeat, threads, args.Contains("--managed"));
        string raw = Path.Combine(directory, "values.f64");
        await using (FileStream file = File.Create(raw))
        {
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()));
        }

        using Process? python = Process.Start(new ProcessStartInfo("/usr/bin/python3", [script, raw, repeat.ToString(CultureInfo.InvariantCulture)]) { RedirectStandardOutput = true });
        if (python is null)
        {
            Console.Error.WriteLine("could not start /usr/bin/python3");
            return 1;
        }

        Console.Write(await python.StandardOutput.ReadToEndAsync());
        await python.WaitForExitAsync();
        Console.WriteLine($"load average at the end: {LoadAverage()}");
        return python.ExitCode;
    }

    /// <summary>
    /// The transform alone on the same samples, each figure the median of <paramref name="repeat"/>
    /// rounds: as the job runs it (real-input FFT into the half spectrum, plan kept from the round
    /// before), the same with a fresh plan, and with the full n-bin complex spectrum built as
    /// <c>numpy.fft.fft</c> returns it.
    /// </summary>
    private static void TimeTransform(double[] samples, int repeat, int threads, bool managed)
    {
        var spectrum = new Spectrum(samples.Length);
        var full = new Complex[samples.Length];
        var warm = new List<double>();
        var cold = new List<double>();
        var whole = new List<double>();
        var watch = new Stopwatch();
        foreach (bool keepPlan in new[] { false, true })
        {
            for (int round = 0; round < repeat; round++)
            {
                if (!keepPlan)
                {
                    FftwPlans.Clear();
                }

                samples.CopyTo(spectrum.Samples);
                watch.Restart();
                SpectrumTransform.Forward(spectrum, threads);
                (keepPlan ? warm : cold).Add(watch.Elapsed.TotalSeconds);
                if (keepPlan)
                {
                    FullSpectrum(spectrum, full);
                    whole.Add(watch.Elapsed.TotalSeconds);
                }
            }
        }

        string engine = SpectrumTransform.Engine;
        Console.WriteLine($"FFT only, {samples.Length:N0} samples, median of {repeat}: .NET {engine} real-input, plan kept {Median(warm):0.000} s (min {warm.Min():0.000}); new plan {Median(cold):0.000} s (min {cold.Min():0.000}); plan kept + full complex spectrum {Median(whole):0.000} s (min {whole.Min():0.000})");
        if (managed)
        {
            samples.CopyTo(spectrum.Samples);
            long before = ProcessMemory.ResetPeak();
            watch.Restart();
            SpectrumTransform.Forward(spectrum, threads, useFftw: false);
            Console.WriteLine($"FFT only, same samples, one round: .NET MathNet.Numerics (the fallback without FFTW) {watch.Elapsed.TotalSeconds:0.000} s, peak +{(ProcessMemory.Read("VmHWM") - before) / (double)samples.Length:0.0} bytes per sample beyond the samples");
        }
    }

    private static void FullSpectrum(Spectrum spectrum, Complex[] full)
    {
        ReadOnlySpan<Complex> stored = spectrum.StoredSpectrum;
        stored.CopyTo(full);
        for (int k = stored.Length; k < full.Length; k++)
        {
            full[k] = Complex.Conjugate(stored[full.Length - k]);
        }
    }

    private static double[] ReadValues(string input)
    {
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using DuckDBCommand count = db.CreateCommand();
        count.CommandText = $"SELECT count(*) FROM read_parquet('{input.Replace("'", "''", StringComparison.Ordinal)}')";
        double[] values = new double[Convert.ToInt64(count.ExecuteScalar(), CultureInfo.InvariantCulture)];
        using DuckDBCommand select = db.CreateCommand();
        select.CommandText = $"SELECT values FROM read_parquet('{input.Replace("'", "''", StringComparison.Ordinal)}') ORDER BY sample";
        using var reader = select.ExecuteReader();
        for (int i = 0; reader.Read(); i++)
        {
            values[i] = reader.GetDouble(0);
        }

        return values;
    }

    private static double Median(IEnumerable<double> values)
    {
        double[] sorted = [.. values.Order()];
        return sorted.Length % 2 == 1 ? sorted[sorted.Length / 2] : (sorted[(sorted.Length / 2) - 1] + sorted[sorted.Length / 2]) / 2;
    }

    private static string LoadAverage() => File.Exists("/proc/loadavg") ? string.Join(' ', File.ReadAllText("/proc/loadavg").Split(' ')[..3]) : "?";

    private static string CpuModel() =>
        File.Exists("/proc/cpuinfo") ? File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("model name", StringComparison.Ordinal))?.Split(':', 2)[1].Trim() ?? "?" : "?";

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }

    /// <summary>This process's memory from /proc/self/status (Linux).</summary>
    private static class ProcessMemory
    {
        /// <summary>Resets the peak (VmHWM) to the current resident size, which it returns.</summary>
        public static long ResetPeak()
        {
            File.WriteAllText("/proc/self/clear_refs", "5");
            return Read("VmRSS");
        }

        public static long Read(string field)
        {
            string line = File.ReadLines("/proc/self/status").Single(l => l.StartsWith(field + ":", StringComparison.Ordinal));
            return long.Parse(line.Split(' ', StringSplitOptions.RemoveEmptyEntries)[1], CultureInfo.InvariantCulture) * 1024;
        }
    }
}
