using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Microsoft.Extensions.DependencyInjection;
using Rto.Server.Endpoints;

namespace Rto.Server.Tests.Observability;

/// <summary>
/// Listens to one server's <c>Rto.Server</c> instruments (not those of servers other tests run in
/// parallel) and lets a test await a total instead of polling.
/// </summary>
internal sealed class InstrumentRecorder : IDisposable
{
    private readonly MeterListener _listener = new();
    private readonly ConcurrentDictionary<string, double> _totals = new();
    private readonly List<(Func<InstrumentRecorder, bool> Condition, TaskCompletionSource Done)> _waiters = [];

    public InstrumentRecorder(IServiceProvider server)
    {
        object scope = server.GetRequiredService<IMeterFactory>();
        _listener.InstrumentPublished = (instrument, listener) =>
        {
            if (instrument.Meter.Name == ServerInstruments.MeterName && ReferenceEquals(instrument.Meter.Scope, scope))
            {
                listener.EnableMeasurementEvents(instrument);
            }
        };
        _listener.SetMeasurementEventCallback<long>((instrument, value, tags, _) => Record(instrument.Name, value, tags));
        _listener.SetMeasurementEventCallback<double>((instrument, value, tags, _) => Record(instrument.Name, 1, tags));
        _listener.Start();
    }

    /// <summary>The sum of <paramref name="instrument"/> for one endpoint (and reason); histograms count recordings.</summary>
    public double Total(string instrument, string endpoint, string? reason = null) =>
        _totals.GetValueOrDefault(Key(instrument, endpoint, reason));

    public async Task WaitUntilAsync(Func<InstrumentRecorder, bool> condition, string what)
    {
        var done = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        lock (_waiters)
        {
            _waiters.Add((condition, done));
        }

        Check();
        try
        {
            await done.Task.WaitAsync(TimeSpan.FromSeconds(10));
        }
        catch (TimeoutException)
        {
            Assert.Fail($"Timed out waiting for {what}; recorded: {string.Join(", ", _totals.Select(t => $"{t.Key}={t.Value}"))}");
        }
    }

    public void Dispose() => _listener.Dispose();

    private static string Key(string instrument, string endpoint, string? reason) => $"{instrument}|{endpoint}|{reason}";

    private void Record(string instrument, double value, ReadOnlySpan<KeyValuePair<string, object?>> tags)
    {
        string endpoint = "", reason = "";
        foreach (KeyValuePair<string, object?> tag in tags)
        {
            if (tag.Key == "endpoint")
            {
                endpoint = (string)tag.Value!;
            }
            else if (tag.Key == "reason")
            {
                reason = (string)tag.Value!;
            }
        }

        _totals.AddOrUpdate(Key(instrument, endpoint, null), value, (_, old) => old + value);
        if (reason.Length != 0)
        {
            _totals.AddOrUpdate(Key(instrument, endpoint, reason), value, (_, old) => old + value);
        }

        Check();
    }

    private void Check()
    {
        lock (_waiters)
        {
            _waiters.RemoveAll(w =>
            {
                if (!w.Condition(this))
                {
                    return false;
                }

                w.Done.TrySetResult();
                return true;
            });
        }
    }
}
