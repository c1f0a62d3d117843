using System.Diagnostics;
using System.Globalization;
using System.Numerics;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using Rto.Protocols.Jobs;
using Rto.Server.Jobs;

namespace Rto.Benchmarks.Jobs;

/// <summary>
/// <c>jobs [--rows N] [--dir DIR] [--numpy SCRIPT]</c>: runs the FFT, stats and SQL tasks over an
/// N-row Parquet time series (default 10,000,000) through the server's own job executor and
/// prints each job's time split into read / compute / write; then times the FFT alone on the same
/// samples in .NET and in <c>numpy.fft.fft</c> (Debian's <c>/usr/bin/python3</c>, package
/// python3-numpy), best of three each.
/// </summary>
public static class JobTimingCommand
{
    public static async Task<int> RunAsync(string[] args)
    {
        long rows = long.Parse(Option(args, "--rows", "10000000"), CultureInfo.InvariantCulture);
        string directory = Path.GetFullPath(Option(args, "--dir", Path.Combine(Path.GetTempPath(), "rto-job-timing")));
        string script = Option(args, "--numpy", Path.Combine("benchmarks", "fft_numpy.py"));
        Directory.CreateDirectory(directory);

        string input = Path.Combine(directory, "time_series.parquet");
        var watch = Stopwatch.StartNew();
        JobSamples.WriteTimeSeries(input, rows);
        Console.WriteLine($"input: {rows:N0} rows, {new FileInfo(input).Length / 1e6:0.0} MB Parquet, generated in {watch.Elapsed.TotalSeconds:0.00} s");

        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "fft values\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "stats.task"), "stats values\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "work.sql"), "SELECT floor(time) AS second, avg(values) AS mean, max(values) AS peak FROM input GROUP BY 1 ORDER BY 1\n");

        // Room for the 10 M-row FFT (about 256 bytes per sample at its peak); the default 1 GiB refuses it.
        var executor = new JobExecutor(new DataRoots([directory]), Options.Create(new JobsOptions { MaxJobMemory = 8L << 30, ThreadsPerJob = Environment.ProcessorCount }));
        Console.WriteLine("job          total      read   compute     write");
        foreach (string task in new[] { "fft.task", "stats.task", "work.sql" })
        {
            watch.Restart();
            JobOutcome outcome = executor.Execute(new JobRequest { Directory = directory, Base = "time_series.parquet", File = task }, CancellationToken.None, out JobPhaseTimes times);
            double total = watch.Elapsed.TotalSeconds;
            if (outcome.Error is not null)
            {
                Console.Error.WriteLine($"{task}: {outcome.Error}");
                return 1;
            }

            // SQL and stats run as one DuckDB COPY: read, compute and write overlap, so only the total is meaningful.
            string split = times.Read == TimeSpan.Zero ? "(one DuckDB pipeline)" : $"{times.Read.TotalSeconds,8:0.000} s {times.Compute.TotalSeconds,7:0.000} s {times.Write.TotalSeconds,7:0.000} s";
            Console.WriteLine($"{task,-10} {total,7:0.000} s {split}");
        }

        double[] samples = ReadValues(input);
        string raw = Path.Combine(directory, "values.f64");
        await using (FileStream file = File.Create(raw))
        {
            file.Write(System.Runtime.InteropServices.MemoryMarshal.AsBytes(samples.AsSpan()));
        }

        var buffer = new Complex[samples.Length];
        foreach (bool useFftw in SpectrumTransform.Engine == "FFTW" ? new[] { true, false } : [false])
        {
            double best = double.MaxValue;
            for (int round = 0; round < 3; round++)
            {
                for (int i = 0; i < samples.Length; i++)
                {
                    buffer[i] = new Complex(samples[i], 0);
                }

                watch.Restart();
                SpectrumTransform.Forward(buffer, useFftw);
                best = Math.Min(best, watch.Elapsed.TotalSeconds);
            }

            Console.WriteLine($"FFT only, {samples.Length:N0} samples, best of 3: .NET ({(useFftw ? "FFTW" : "MathNet.Numerics")}) {best:0.000} s");
        }

        using Process? python = Process.Start(new ProcessStartInfo("/usr/bin/python3", [script, raw]) { RedirectStandardOutput = true });
        if (python is null)
        {
            Console.Error.WriteLine("could not start /usr/bin/python3");
            return 1;
        }

        string numpy = (await python.StandardOutput.ReadToEndAsync()).Trim();
        await python.WaitForExitAsync();
        Console.WriteLine($"FFT only, same samples, best of 3: {numpy}");
        return python.ExitCode;
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

    private static string Option(string[] args, string name, string fallback)
    {
        int at = Array.IndexOf(args, name);
        return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
    }
}
