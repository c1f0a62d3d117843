using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rto.Server.Endpoints;

namespace Rto.Server.Console;

/// <summary>
/// The overview page: every endpoint with its bound address, connections, requests and errors (totals
/// and rates from the <c>Rto.Server</c> instruments), and the health report.
/// </summary>
internal sealed class OverviewView(ServerEndpoints endpoints, InstrumentTotals totals, HealthCheckService health)
{
    /// <summary>Health checks read the disk; once every few seconds is plenty for a page.</summary>
    private static readonly TimeSpan HealthInterval = TimeSpan.FromSeconds(2);

    private readonly DateTimeOffset _started = DateTimeOffset.UtcNow;
    private readonly SemaphoreSlim _healthLock = new(1, 1);
    private object? _health;
    private long _healthAt = Environment.TickCount64 - 60_000;

    public sealed record Endpoint(
        string Name, string Description, string Address, long ConnectionsActive, long ConnectionsOpened, long Requests, double RequestsPerSecond,
        long Errors, double ErrorsPerSecond, Dictionary<string, long> ErrorsByReason, long BytesReceived, long BytesSent, double? MeanDurationMs);

    /// <summary>A stream's view: rates are measured between two of its own updates.</summary>
    public LiveView Stream(TimeSpan interval)
    {
        Dictionary<string, (long Requests, long Errors)> previous = [];
        long previousAt = 0, lastSent = Environment.TickCount64 - 60_000;
        return new LiveView(() =>
        {
            // Rates need a time base: at most one update a second, whatever the page's rate.
            long now = Environment.TickCount64;
            if (now - lastSent < Math.Max(1000, interval.TotalMilliseconds) - 50)
            {
                return null;
            }

            lastSent = now;
            object snapshot = Snapshot(previous, previousAt == 0 ? 0 : (now - previousAt) / 1000.0);
            previousAt = now;
            return snapshot;
        });
    }

    /// <summary>The whole page; <paramref name="elapsedSeconds"/> since <paramref name="previous"/> (0: no rates yet).</summary>
    public object Snapshot(Dictionary<string, (long Requests, long Errors)> previous, double elapsedSeconds)
    {
        List<InstrumentTotals.Reading> readings = totals.Read();
        var rows = new List<Endpoint>();
        foreach ((string name, string description, System.Net.IPEndPoint? address) in endpoints.Describe())
        {
            long Sum(string instrument) => (long)readings.Where(r => r.Endpoint == name && r.Instrument == instrument).Sum(r => r.Sum);
            long requests = Sum("rto.requests"), errors = Sum("rto.errors");
            (long Requests, long Errors) before = previous.GetValueOrDefault(name, (requests, errors));
            previous[name] = (requests, errors);
            InstrumentTotals.Reading? duration = readings.FirstOrDefault(r => r.Endpoint == name && r.Instrument == "rto.request.duration");
            rows.Add(new Endpoint(
                name, description, address?.ToString() ?? "(not bound)", Sum("rto.connections.active"), Sum("rto.connections.opened"),
                requests, elapsedSeconds > 0 ? (requests - before.Requests) / elapsedSeconds : 0,
                errors, elapsedSeconds > 0 ? (errors - before.Errors) / elapsedSeconds : 0,
                readings.Where(r => r.Endpoint == name && r.Instrument == "rto.errors").ToDictionary(r => r.Reason, r => (long)r.Sum),
                Sum("rto.bytes.received"), Sum("rto.bytes.sent"),
                duration is { Count: > 0 } d ? d.Sum / d.Count * 1000 : null));
        }

        return new { time = DateTimeOffset.UtcNow, started = _started, endpoints = rows, health = Health() };
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
                    HealthReport report = await health.CheckHealthAsync();
                    _health = new
                    {
                        status = report.Status.ToString(),
                        checks = report.Entries.Select(e => new { name = e.Key, status = e.Value.Status.ToString(), description = e.Value.Description }).ToList(),
                    };
                    Volatile.Write(ref _healthAt, Environment.TickCount64);
                }
                finally
                {
                    _healthLock.Release();
                }
            });
        }

        return Volatile.Read(ref _health);
    }
}
