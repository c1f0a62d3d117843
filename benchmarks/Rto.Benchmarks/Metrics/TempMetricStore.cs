using Microsoft.Extensions.Logging.Abstractions;
using Rto.Server.Metrics;
using Rto.Server.Storage;

namespace Rto.Benchmarks.Metrics;

/// <summary>A <see cref="MetricStore"/> in a fresh temporary directory that is deleted on dispose.</summary>
internal sealed class TempMetricStore : IDisposable
{
    /// <summary>
    /// Put benchmarks push gigabytes through the log, so segments must roll for the closed ones
    /// to be compacted away and disk use to stay bounded (about three segments). 256 MB rolls
    /// only every few million puts, which keeps the roll and its fsync out of the per-put cost.
    /// </summary>
    private const long SegmentSize = 256L * 1024 * 1024;

    private readonly string _directory;

    private TempMetricStore(string directory)
    {
        _directory = directory;

        // No fsync: these benchmarks measure the store, not the disk.
        var options = new MetricsOptions { DataDirectory = directory, Fsync = FsyncPolicy.Never, SegmentSize = SegmentSize };
        Store = new MetricStore(options, NullLogger<MetricStore>.Instance);
    }

    public MetricStore Store { get; }

    /// <summary>
    /// Creates a store under <c>RTO_BENCH_DATA</c> (e.g. a tmpfs such as <c>/dev/shm</c>) when that
    /// is set, else under the system temp directory.
    /// </summary>
    public static TempMetricStore Create()
    {
        string root = Environment.GetEnvironmentVariable("RTO_BENCH_DATA") is { Length: > 0 } configured ? configured : Path.GetTempPath();
        return new TempMetricStore(Path.Combine(root, "rto-bench-" + Guid.NewGuid().ToString("N")));
    }

    public void Dispose()
    {
        Store.Dispose();
        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A background compaction may still be writing its snapshot; one retry is enough.
            Thread.Sleep(200);
            Directory.Delete(_directory, recursive: true);
        }
    }
}
