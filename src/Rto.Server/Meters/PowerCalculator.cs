using Microsoft.Extensions.Options;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>
/// Every <see cref="MetersOptions.PowerInterval"/>, when new readings arrived: takes the latest
/// voltage reading, pairs it with the current reading closest in time (within
/// <see cref="MetersOptions.PowerMaxTimeDifference"/>) and appends the point to the power log in
/// the original's line format (<see cref="PowerLogLine"/>), in the layout
/// <see cref="MetersOptions.PowerLogLayout"/> chooses.
/// </summary>
internal sealed partial class PowerCalculator : BackgroundService
{
    private readonly MeterStore _store;
    private readonly MeterRegistry _registry;
    private readonly MetersOptions _options;
    private readonly ILogger<PowerCalculator> _logger;
    private readonly MeterCharts _charts;
    private readonly TimedValue[] _history;
    private readonly Lock _lock = new();
    private readonly PowerLog? _log;
    private volatile bool _plotStale;
    private int _next;
    private int _count;
    private long _version;
    private long _seenVersion = -1;
    private long _lastVoltageTimestamp = long.MinValue;

    public PowerCalculator(MeterStore store, MeterRegistry registry, IOptions<MetersOptions> options, ILogger<PowerCalculator> logger, MeterCharts? charts = null)
    {
        _store = store;
        _registry = registry;
        _options = options.Value;
        _logger = logger;
        _charts = charts ?? new MeterCharts(_options);
        _history = new TimedValue[_options.PowerHistory];
        PlotPath = Path.Combine(_options.PlotDirectory, "power.png");
        if (store.IsReplica)
        {
            // Cluster mode: the power points are in the cluster's stream (MetersReplication), not in a power log.
            LogPath = string.Empty;
            return;
        }

        _log = PowerLog.Open(_options, DateTime.Now, Keep, out LogReplay replay);
        _log.FsyncFailed = LogFailed;
        LogPath = _log.Path;
        LogReplayed(LogPath, replay.Lines, replay.CorruptLines, replay.TornBytes, replay.Elapsed.TotalMilliseconds);
        if (_count > 0)
        {
            // The latest voltage reading replayed from readings.log already has its power point.
            _lastVoltageTimestamp = _history[(_next + _history.Length - 1) % _history.Length].Timestamp;
        }
    }

    /// <summary>The power log this run appends to (under <see cref="PowerLogLayout.PerRun"/>, created with the first point); empty in cluster mode.</summary>
    public string LogPath { get; }

    /// <summary>
    /// Cluster mode: publishes a computed point to the cluster's stream, which every node's
    /// <see cref="Apply"/> then keeps (set by <c>MetersReplication</c> when it joins).
    /// </summary>
    public Func<TimedValue, CancellationToken, ValueTask>? Publish { get; set; }

    /// <summary>Cluster mode: keeps a point from the cluster's stream, whichever node computed it; a voltage reading with a point is not computed again here.</summary>
    public void Apply(TimedValue point)
    {
        lock (_lock)
        {
            Keep(point);
            if (point.Timestamp > Volatile.Read(ref _lastVoltageTimestamp))
            {
                Volatile.Write(ref _lastVoltageTimestamp, point.Timestamp);
            }
        }

        _plotStale = true;
    }

    /// <summary>The chart of the kept power points the server refreshes while it runs.</summary>
    public string PlotPath { get; }

    /// <summary>Changes whenever a power point is kept; charts are drawn again only when it has.</summary>
    public long Version => Interlocked.Read(ref _version);

    /// <summary>Renders the kept power points as a PNG chart (the cached one when nothing changed).</summary>
    public byte[] RenderPng(long from = long.MinValue, long to = long.MaxValue) => _charts.Power(this, from, to).Png;

    /// <summary>Rewrites <see cref="PlotPath"/> from the kept power points.</summary>
    public void RefreshPlot() => MeterPlots.WriteAtomically(PlotPath, RenderPng());

    /// <summary>The line written to the power log for one point, terminator included: exactly the original's <c>f"{power}|{timestamp}\n"</c>.</summary>
    public static string FormatLine(TimedValue point) => PowerLogLine.ToString(point);

    /// <summary>Computes one power point if new data allows it; returns it. The timer calls this; tests call it directly.</summary>
    public TimedValue? Tick()
    {
        long version = _store.Version;
        if (version == _seenVersion)
        {
            return null;
        }

        _seenVersion = version;
        FrozenMeters meters = Split(_registry);
        TimedValue voltage = default;
        bool haveVoltage = false;
        foreach (string meter in meters.Volts)
        {
            if (_store.TryGetWindow(meter, out MeterWindow window) && window.TryGetLatest(out TimedValue latest) && (!haveVoltage || latest.Timestamp > voltage.Timestamp))
            {
                voltage = latest;
                haveVoltage = true;
            }
        }

        if (!haveVoltage || voltage.Timestamp == _lastVoltageTimestamp)
        {
            return null;
        }

        long maxDifference = _options.PowerMaxTimeDifference.Ticks / 10;
        TimedValue current = default;
        long best = long.MaxValue;
        foreach (string meter in meters.Amperes)
        {
            if (_store.TryGetWindow(meter, out MeterWindow window) && window.TryFindClosest(voltage.Timestamp, maxDifference, out TimedValue closest)
                && Math.Abs(closest.Timestamp - voltage.Timestamp) < best)
            {
                best = Math.Abs(closest.Timestamp - voltage.Timestamp);
                current = closest;
            }
        }

        if (best == long.MaxValue)
        {
            return null;
        }

        _lastVoltageTimestamp = voltage.Timestamp;
        var point = new TimedValue(voltage.Timestamp, voltage.Value * current.Value);
        if (_log is null)
        {
            // Cluster mode: the loop publishes it, and every node keeps it from the stream.
            return point;
        }

        Span<byte> line = stackalloc byte[PowerLogLine.MaxLength];
        int length = PowerLogLine.Format(point, line);
        lock (_lock)
        {
            _log.Append(line[..length]);
            Keep(point);
        }

        return point;
    }

    /// <summary>Parses a power log line back into a point (the original's format, or the one earlier Rto versions wrote).</summary>
    public static bool TryParseLine(ReadOnlySpan<byte> line, out TimedValue point) => PowerLogLine.TryParse(line, out point);

    /// <summary>The kept power points with <paramref name="from"/> ≤ timestamp ≤ <paramref name="to"/>, oldest first.</summary>
    public List<TimedValue> Query(long from, long to)
    {
        var result = new List<TimedValue>();
        lock (_lock)
        {
            int index = _count < _history.Length ? 0 : _next;
            for (int i = 0; i < _count; i++, index = (index + 1) % _history.Length)
            {
                if (_history[index].Timestamp >= from && _history[index].Timestamp <= to)
                {
                    result.Add(_history[index]);
                }
            }
        }

        return result;
    }

    private void Keep(TimedValue point)
    {
        _history[_next] = point;
        _next = (_next + 1) % _history.Length;
        _count = Math.Min(_count + 1, _history.Length);
        Interlocked.Increment(ref _version);
    }

    public override void Dispose()
    {
        base.Dispose();
        lock (_lock)
        {
            _log?.Dispose();
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(_options.PowerInterval);
        TryRefreshPlot();

        try
        {
            while (await timer.WaitForNextTickAsync(stoppingToken))
            {
                try
                {
                    if (Tick() is { } point)
                    {
                        if (_log is null && Publish is { } publish)
                        {
                            await PublishAsync(publish, point, stoppingToken);
                        }
                        else
                        {
                            TryRefreshPlot();
                        }
                    }

                    if (_plotStale)
                    {
                        _plotStale = false;
                        TryRefreshPlot();
                    }
                }
                catch (IOException ex)
                {
                    LogFailed(ex);
                }
            }
        }
        catch (OperationCanceledException)
        {
            // Shutting down.
        }
    }

    /// <summary>A point the cluster did not store is computed again at the next tick only if a newer voltage reading allows it; it is logged, never fatal.</summary>
    private async Task PublishAsync(Func<TimedValue, CancellationToken, ValueTask> publish, TimedValue point, CancellationToken stoppingToken)
    {
        try
        {
            await publish(point, stoppingToken);
        }
        catch (IOException ex)
        {
            LogFailed(ex);
        }
    }

    /// <summary>A chart that cannot be drawn or written (disk, missing native library) must never stop power or the host.</summary>
    private void TryRefreshPlot()
    {
        try
        {
            RefreshPlot();
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            LogPlotFailed(ex, PlotPath);
        }
    }

    private static FrozenMeters Split(MeterRegistry registry)
    {
        var volts = new List<string>();
        var amperes = new List<string>();
        foreach (MeterDefinition meter in registry.Meters.Values)
        {
            (meter.Unit == MeterUnit.Volt ? volts : amperes).Add(meter.Meter);
        }

        return new FrozenMeters(volts, amperes);
    }

    private readonly record struct FrozenMeters(List<string> Volts, List<string> Amperes);

    [LoggerMessage(Level = LogLevel.Information, Message = "Power points replayed from {Path}: {Lines} lines, {CorruptLines} corrupt lines skipped, {TornBytes} bytes of a torn last line dropped, in {ElapsedMs:0.0} ms")]
    private partial void LogReplayed(string path, long lines, long corruptLines, long tornBytes, double elapsedMs);

    [LoggerMessage(Level = LogLevel.Error, Message = "The power log could not be written")]
    private partial void LogFailed(Exception exception);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The power chart {Path} could not be refreshed")]
    private partial void LogPlotFailed(Exception exception, string path);
}
