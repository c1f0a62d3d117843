using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Rto.Server.Endpoints;

namespace Rto.Server.Console;

/// <summary>
/// Running totals of this server's <c>Rto.Server</c> instruments per endpoint (and error reason), for
/// the console's overview: it listens to the same measurements the exporters see, from this host's
/// meter only (several servers may share a process).
/// </summary>
internal sealed class InstrumentTotals : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<(string Instrument, string Endpoint, string Reason), Total> _totals = new();

    public InstrumentTotals(IMeterFactory meterFactory)
    {
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (ReferenceEquals(instrument.Meter.Scope, meterFactory) && instrument.Meter.Name == ServerInstruments.MeterName)
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument, value, 1, tags));

        // The only double instrument is the duration histogram: its total and count give a mean.
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument, value, 1, tags));
        _listener.Start();
    }

    /// <summary>One total: the sum of the measurements and how many there were.</summary>
    public readonly record struct Reading(string Instrument, string Endpoint, string Reason, double Sum, long Count);

    /// <summary>Every total, as of now.</summary>
    public List<Reading> Read()
    {
        var readings = new List<Reading>(_totals.Count);
        foreach (KeyValuePair<(string Instrument, string Endpoint, string Reason), Total> total in _totals)
        {
            (double sum, long count) = total.Value.Snapshot();
            readings.Add(new Reading(total.Key.Instrument, total.Key.Endpoint, total.Key.Reason, sum, count));
        }

        return readings;
    }

    public void Dispose() => _listener.Dispose();

    private void Record(Instrument instrument, double value, long count, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string endpoint = "", reason = "";
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "endpoint")
            {
                endpoint = tag.Value as string ?? "";
            }
            else if (tag.Key == "reason")
            {
                reason = tag.Value as string ?? "";
            }
        }

        Total total = _totals.GetOrAdd((instrument.Name, endpoint, reason), static _ => new Total());
        total.Add(value, count);
    }

    private sealed class Total
    {
        private readonly Lock _lock = new();
        private double _sum;
        private long _count;

        public (double Sum, long Count) Snapshot()
        {
            lock (_lock)
            {
                return (_sum, _count);
            }
        }

        public void Add(double value, long count)
        {
            lock (_lock)
            {
                _sum += value;
                _count += count;
            }
        }
    }
}
