using BenchmarkDotNet.Attributes;
using Rto.Server.Metrics;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// Puts that append new, increasing timestamps to existing keys: the usual write path, including
/// the amortised cost of growing each series' arrays (so it allocates, honestly).
/// </summary>
/// <remarks>
/// Appending grows the store without limit, so every iteration starts from a fresh store and
/// does a fixed amount of work: 384 invocations x 4096 puts = 1,572,864 puts spread over
/// <see cref="Keys"/> keys. Series grow by doubling, so the allocation per point depends on how
/// full the arrays are when the iteration stops: 32 B when exactly full, 64 B just after a
/// doubling. 1,572,864 points (plus the seed point) leave every series 75% full, a mid-cycle
/// figure rather than the best or the worst case, and an iteration of well over 100 ms. The
/// invocation count is pinned because BenchmarkDotNet otherwise runs one invocation per
/// iteration when there is an [IterationSetup].
/// </remarks>
[MemoryDiagnoser]
[InvocationCount(384)]
public class MetricStoreAppendBenchmarks
{
    private const int PutsPerInvoke = 4096;

    private byte[][] _keys = [];
    private TempMetricStore? _temp;
    private MetricStore _store = null!;
    private long _timestamp;
    private int _nextKey;

    /// <summary>1 key grows to 1,572,865 points (large-object arrays); 1024 keys to 1,537 points each.</summary>
    [Params(1, 1024)]
    public int Keys { get; set; } = 1;

    [GlobalSetup]
    public void Setup() => _keys = [.. Enumerable.Range(0, Keys).Select(k => System.Text.Encoding.ASCII.GetBytes($"host{k:D4}.cpu"))];

    [IterationSetup]
    public void OpenStore()
    {
        _temp = TempMetricStore.Create();
        _store = _temp.Store;
        _timestamp = 1_700_000_000;
        _nextKey = 0;

        // The keys exist before the measurement; only their points are new.
        foreach (byte[] key in _keys)
        {
            _store.Put(key, _timestamp, 0, out long position);
            _store.Commit(position);
        }
    }

    [IterationCleanup]
    public void CloseStore() => _temp?.Dispose();

    /// <summary>Every 4096 puts are committed, as the server does per batch (see <see cref="MetricStoreBenchmarks.PutReplace"/>).</summary>
    [Benchmark(OperationsPerInvoke = PutsPerInvoke)]
    public long PutAppend()
    {
        byte[][] keys = _keys;
        long position = 0;
        int k = _nextKey;
        for (int i = 0; i < PutsPerInvoke; i++)
        {
            // Each key gets the next timestamp once per round over all keys.
            if (k == 0)
            {
                _timestamp++;
            }

            _store.Put(keys[k], _timestamp, i, out position);
            k = k + 1 == keys.Length ? 0 : k + 1;
        }

        _nextKey = k;
        _store.Commit(position);
        return position;
    }
}
