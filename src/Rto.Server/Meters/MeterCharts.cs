using System.Diagnostics;
using Microsoft.Net.Http.Headers;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>A rendered chart: the PNG and what HTTP caches revalidate it by.</summary>
/// <param name="Png">The image.</param>
/// <param name="ETag">Changes whenever the image is drawn again.</param>
/// <param name="LastModified">When it was drawn.</param>
internal sealed record MeterChart(byte[] Png, EntityTagHeaderValue ETag, DateTimeOffset LastModified);

/// <summary>
/// The meters' PNG charts, drawn at most once per change of their data and at most once per
/// <see cref="MetersOptions.ChartRefreshInterval"/>; every other request gets the cached bytes.
/// Drawing takes 40–130 ms, so a few clients polling a chart would otherwise keep the CPU busy for
/// everyone. Concurrent requests for the same chart wait for one drawing. Thread-safe.
/// </summary>
internal sealed class MeterCharts
{
    /// <summary>Distinct charts kept (a chart is one series and one time range); the least recently used goes first.</summary>
    private const int Capacity = 64;

    private readonly MetersOptions _options;
    private readonly Dictionary<ChartKey, Entry> _entries = [];
    private readonly Lock _lock = new();

    // Tags from an earlier run of the server must not match a chart of this one.
    private readonly string _run = Guid.NewGuid().ToString("N")[..8];
    private long _renders;

    public MeterCharts(MetersOptions options) => _options = options;

    /// <summary>How many charts were drawn since start (the cache's misses).</summary>
    public long Renders => Interlocked.Read(ref _renders);

    /// <summary>The chart of the power points from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public MeterChart Power(PowerCalculator power, long from, long to) =>
        Get(new ChartKey(null, from, to), power.Version, () => MeterPlots.RenderPng("Power", "Power, W", power.Query(from, to), _options.PlotWidth, _options.PlotHeight));

    /// <summary>The chart of one meter's readings from <paramref name="from"/> to <paramref name="to"/>.</summary>
    public MeterChart Readings(MeterStore store, MeterRegistry registry, string meter, long from, long to)
    {
        long version = (store.TryGetWindow(meter, out MeterWindow window) ? window.Version : 0) * 31 + registry.Version;
        return Get(new ChartKey(meter, from, to), version, () =>
        {
            string unit = registry.TryGet(meter, out MeterDefinition definition) && definition.Unit == MeterUnit.Ampere ? "Current, A" : "Voltage, V";
            return MeterPlots.RenderPng($"Meter {meter}", unit, store.Query(meter, from, to, 100_000), _options.PlotWidth, _options.PlotHeight);
        });
    }

    private MeterChart Get(ChartKey key, long version, Func<byte[]> render)
    {
        Entry entry;
        lock (_lock)
        {
            if (!_entries.TryGetValue(key, out entry!))
            {
                if (_entries.Count >= Capacity)
                {
                    _entries.Remove(_entries.MinBy(pair => pair.Value.LastUsed).Key);
                }

                entry = new Entry();
                _entries.Add(key, entry);
            }

            entry.LastUsed = Stopwatch.GetTimestamp();
        }

        // One drawing per chart at a time; whoever waited for it gets its result.
        lock (entry)
        {
            if (entry.Chart is not null
                && (entry.Version == version || Stopwatch.GetElapsedTime(entry.RenderedAt) < _options.ChartRefreshInterval))
            {
                return entry.Chart;
            }

            byte[] png = render();
            long generation = Interlocked.Increment(ref _renders);
            entry.Chart = new MeterChart(png, new EntityTagHeaderValue($"\"{_run}-{generation}\""), DateTimeOffset.UtcNow);
            entry.Version = version;
            entry.RenderedAt = Stopwatch.GetTimestamp();
            return entry.Chart;
        }
    }

    private readonly record struct ChartKey(string? Meter, long From, long To);

    private sealed class Entry
    {
        public MeterChart? Chart;
        public long Version;
        public long RenderedAt;
        public long LastUsed;
    }
}
