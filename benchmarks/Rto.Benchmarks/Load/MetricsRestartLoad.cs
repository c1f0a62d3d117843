using System.Diagnostics;
using System.Globalization;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Logging.Abstractions;
using Rto.Server.Metrics;
using Rto.Server.Storage;

namespace Rto.Benchmarks.Load;

/// <summary>
/// <c>load metrics --mode restart</c>: fills a store in a fresh directory with <c>--total</c> points
/// through the store's own API (no sockets, so 100 M points take seconds, not minutes), closes it,
/// and times opening it again from the files just written (so from the page cache).
/// </summary>
internal static class MetricsRestartLoad
{
    private const int CommitEvery = 4096;

    public static int Run(LoadOptions options)
    {
        string root = Environment.GetEnvironmentVariable("RTO_BENCH_DATA") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        string directory = Path.Combine(root, "rto-restart-" + Guid.NewGuid().ToString("N"));
        var settings = new MetricsOptions { DataDirectory = directory, Fsync = FsyncPolicy.Never };
        using ILoggerFactory logging = LoggerFactory.Create(b => b.AddSimpleConsole(o => o.SingleLine = true).SetMinimumLevel(LogLevel.Information));
        try
        {
            int keys = options.Keys;
            long rounds = (options.TotalPoints + keys - 1) / keys;
            long points = rounds * keys;
            Console.WriteLine($"metrics restart: {points:N0} points = {keys:N0} keys x {rounds:N0} rounds, values {options.Values}, order {options.Order}, in {directory}");
            byte[][] names = [.. Enumerable.Range(0, keys).Select(k => System.Text.Encoding.ASCII.GetBytes($"restart.k{k}"))];
            var pattern = new PointPattern(options.Values, options.Order, rounds, options.IntervalSeconds);

            MetricsSizeLoad.Resident empty = MetricsSizeLoad.Resident.Measure(inProcess: true, serverPid: null);
            long allocatedBefore = GC.GetTotalAllocatedBytes();
            long started = Stopwatch.GetTimestamp();
            using (var store = new MetricStore(settings, NullLogger<MetricStore>.Instance))
            {
                int sinceCommit = 0;
                long position = 0;
                for (long round = 0; round < rounds; round++)
                {
                    long timestamp = pattern.Timestamp(round);
                    for (int k = 0; k < names.Length; k++)
                    {
                        store.Put(names[k], timestamp, pattern.Value(k, timestamp), out position);
                        if (++sinceCommit == CommitEvery)
                        {
                            store.Commit(position);
                            sinceCommit = 0;
                        }
                    }
                }

                store.Commit(position);
                double fill = Stopwatch.GetElapsedTime(started).TotalSeconds;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"filled in {fill:F2} s ({points / fill:N0} puts/s), allocating {(GC.GetTotalAllocatedBytes() - allocatedBefore) / (double)points:F1} B/point"));
                MetricsSizeLoad.Report(points, empty, MetricsSizeLoad.Resident.Measure(inProcess: true, serverPid: null), directory, store);
            }

            MetricsSizeLoad.Resident closed = MetricsSizeLoad.Resident.Measure(inProcess: true, serverPid: null);
            started = Stopwatch.GetTimestamp();
            using (var reopened = new MetricStore(settings, logging.CreateLogger<MetricStore>()))
            {
                double open = Stopwatch.GetElapsedTime(started).TotalSeconds;
                long count = reopened.PointCount;
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"restart: opened in {open:F2} s = {open / (points / 1e8):F2} s per 100 M points; {count:N0} points{(count == points ? "" : " MISMATCH")}"));
                MetricsSizeLoad.Report(points, closed, MetricsSizeLoad.Resident.Measure(inProcess: true, serverPid: null), directory, null);
                Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"summary: restart_seconds={open:F2} points={points}"));
                return count == points ? 0 : 1;
            }
        }
        finally
        {
            if (Directory.Exists(directory))
            {
                Directory.Delete(directory, recursive: true);
            }
        }
    }
}
