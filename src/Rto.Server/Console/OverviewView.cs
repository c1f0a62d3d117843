using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rto.Server.Endpoints;

namespace Rto.Server.Console;

/// <summary>
/// The overview page: every endpoint with its bound address, connections, requests and errors (totals
/// from the <c>Rto.Server</c> instruments, rates sampled once a second for the last five minutes, so a
/// page opened now shows what happened before), and the health report.
/// </summary>
internal sealed class OverviewView : IDisposable
{
    /// <summary>How many one-second rate samples are kept.</summary>
    public const int HistoryLength = 300;

    /// <summary>Health checks read the disk; once every few seconds is plenty for a page.</summary>
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(2);

    private readonly ServerEndpoints _endpoints;
    private readonly InstrumentTotals _totals;
    private readonly HealthCheckService _health;
    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly Timer _sampler;
    private readonly Lock _lock = new();
    private readonly Queue<Sample> _history = new();
    private readonly SemaphoreSlim _healthLock = new(1, 1);
    private Dictionary<string, (long Requests, long Errors)> _lastTotals = [];
    private long _lastSampleAt;
    private object? _healthReport;
    private long _healthAt = Environment.TickCount64 - 60_000;

    public OverviewView(ServerEndpoints endpoints, InstrumentTotals totals, HealthCheckService health)
    {
        _endpoints = endpoints;
        _totals = totals;
        _health = health;
        _sampler = new Timer(_ => TakeSample(), null, TimeSpan.FromSeconds(1), TimeSpan.FromSeconds(1));
    }

    /// <summary>Rates of one second: Unix time, requests and errors per second by endpoint.</summary>
    public sealed record Sample(double Time, Dictionary<string, double> Requests, Dictionary<string, double> Errors);

    public sealed record Endpoint(
        string Name, string Description, string Address, long ConnectionsActive, long ConnectionsOpened, long Requests, double RequestsPerSecond,
        long Errors, double ErrorsPerSecond, Dictionary<string, long> ErrorsByReason, long BytesReceived, long BytesSent, double? MeanDurationMs);

    /// <summary>A page's stream: one update per rate sample, the first with the whole history.</summary>
    public LiveView Stream()
    {
        double seen = -1;
        return new LiveView(() =>
        {
            double latest = Latest()?.Time ?? 0;
            if (latest == seen)
            {
                return null;
            }

            bool first = seen < 0;
            seen = latest;
            return Snapshot(withHistory: first);
        });
    }

    /// <summary>The whole page; the rate history only when asked (a page's first update).</summary>
    public object Snapshot(bool withHistory)
    {
        List<InstrumentTotals.Reading> readings = _totals.Read();
        Sample? latest = Latest();
        var rows = new List<Endpoint>();
        foreach ((string name, string description, System.Net.IPEndPoint? address) in _endpoints.Describe())
        {
            long Sum(string instrument) => (long)readings.Where(r => r.Endpoint == name && r.Instrument == instrument).Sum(r => r.Sum);
            InstrumentTotals.Reading? duration = readings.FirstOrDefault(r => r.Endpoint == name && r.Instrument == "rto.request.duration");
            rows.Add(new Endpoint(
                name, description, address?.ToString() ?? "(not bound)", Sum("rto.connections.active"), Sum("rto.connections.opened"),
                Sum("rto.requests"), latest?.Requests.GetValueOrDefault(name) ?? 0, Sum("rto.errors"), latest?.Errors.GetValueOrDefault(name) ?? 0,
                readings.Where(r => r.Endpoint == name && r.Instrument == "rto.errors").ToDictionary(r => r.Reason, r => (long)r.Sum),
                Sum("rto.bytes.received"), Sum("rto.bytes.sent"),
                duration is { Count: > 0 } d ? d.Sum / d.Count * 1000 : null));
        }

        List<Sample>? history = null;
        if (withHistory)
        {
            lock (_lock)
            {
                history = [.. _history];
            }
        }

        return new { time = DateTimeOffset.UtcNow, started = _started, sampledAt = latest?.Time, endpoints = rows, health = Health(), history };
    }

    public void Dispose()
    {
        _sampler.Dispose();
        _healthLock.Dispose();
    }

    private Sample? Latest()
    {
        lock (_lock)
        {
            return _history.Count == 0 ? null : _history.Last();
        }
    }

    private void TakeSample()
    {
        List<InstrumentTotals.Reading> readings = _totals.Read();
        long now = Environment.TickCount64;
        var totals = new Dictionary<string, (long Requests, long Errors)>();
        foreach (InstrumentTotals.Reading reading in readings)
        {
            if (reading.Instrument is "rto.requests" or "rto.errors")
            {
                (long requests, long errors) = totals.GetValueOrDefault(reading.Endpoint);
                totals[reading.Endpoint] = reading.Instrument == "rto.requests" ? (requests + (long)reading.Sum, errors) : (requests, errors + (long)reading.Sum);
            }
        }

        lock (_lock)
        {
            double seconds = _lastSampleAt == 0 ? 1 : Math.Max(0.001, (now - _lastSampleAt) / 1000.0);
            var requests = new Dictionary<string, double>();
            var errors = new Dictionary<string, double>();
            foreach (string name in _endpoints.Describe().Select(e => e.Name))
            {
                (long r, long e) = totals.GetValueOrDefault(name);
                (long r0, long e0) = _lastTotals.GetValueOrDefault(name, (r, e));
                requests[name] = (r - r0) / seconds;
                errors[name] = (e - e0) / seconds;
            }

            _history.Enqueue(new Sample(DateTimeOffset.UtcNow.ToUnixTimeMilliseconds() / 1000.0, requests, errors));
            if (_history.Count > HistoryLength)
            {
                _history.Dequeue();
            }

            _lastTotals = totals;
            _lastSampleAt = now;
        }
    }

    private object? Health()
    {
        if (Environment.TickCount64 - Volatile.Read(ref _healthAt) > HealthInterval.TotalMilliseconds && _healthLock.Wait(0))
        {
            // Checked in the background: a stream never waits for the disk.
            _ = Task.Run(async () =>
            {
                try
                {
                    HealthReport report = await _health.CheckHealthAsync();
                    Volatile.Write(ref _healthReport, new
                    {
                        status = report.Status.ToString(),
                        checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }).ToList(),
                    });
                    Volatile.Write(ref _healthAt, Environment.TickCount64);
                }
                finally
                {
                    _healthLock.Release();
                }
            });
        }

        return Volatile.Read(ref _healthReport);
    }
}
