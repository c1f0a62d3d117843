using Rto.Protocols.Meters;
using Rto.Server.Meters;

namespace Rto.Server.Console;

/// <summary>
/// The meters page: each registered meter's readings (volts or amperes) and the computed power over
/// the last <c>window</c> seconds — counted back from the newest reading, so a replayed or simulated
/// clock shows as well as a live one — and the readings accepted and rejected by reason.
/// </summary>
internal sealed class MetersView(MeterStore store, MeterRegistry registry, MeterCounters counters, PowerCalculator power)
{
    public LiveView Stream(double windowSeconds, int maxPoints)
    {
        (long Store, long Registry, long Accepted, long Rejected) seen = (-1, -1, -1, -1);
        return new LiveView(() =>
        {
            var now = (store.Version, registry.Version, counters.Accepted, counters.Malformed + counters.UnknownMeter + counters.OutOfRange);
            if (now == seen)
            {
                return null;
            }

            seen = now;
            return Snapshot(windowSeconds, maxPoints);
        });
    }

    public object Snapshot(double windowSeconds, int maxPoints)
    {
        List<MeterDefinition> meters = [.. registry.Meters.Values.OrderBy(m => m.Ip)];
        long newest = long.MinValue;
        foreach (MeterDefinition meter in meters)
        {
            if (store.TryGetWindow(meter.Ip, out MeterWindow window) && window.TryGetLatest(out TimedValue latest))
            {
                newest = Math.Max(newest, latest.Timestamp);
            }
        }

        List<TimedValue> allPower = power.Query(long.MinValue, long.MaxValue);
        if (allPower.Count > 0)
        {
            newest = Math.Max(newest, allPower[^1].Timestamp);
        }

        long from = newest == long.MinValue ? long.MinValue : newest - (long)(windowSeconds * 1_000_000);
        double offset = OffsetAt(newest);
        var series = new List<object>();
        foreach (MeterDefinition meter in meters)
        {
            List<TimedValue> readings = store.Query(meter.Ip, from, long.MaxValue, int.MaxValue);
            ChartSeries chart = ChartSeries.Thin(MeterLineParser.FormatIPv4(meter.Ip), meter.Unit == MeterUnit.Volt ? "V" : "A", Points(readings, offset), maxPoints);
            series.Add(new
            {
                ip = chart.Name,
                unit = chart.Unit,
                rangeStart = meter.RangeStart,
                rangeStop = meter.RangeStop,
                count = readings.Count,
                latest = readings.Count > 0 ? readings[^1].Value : (double?)null,
                t = chart.T,
                v = chart.V,
            });
        }

        List<TimedValue> powerInWindow = [.. allPower.Where(p => p.Timestamp >= from)];
        ChartSeries powerChart = ChartSeries.Thin("power", "W", Points(powerInWindow, offset), maxPoints);
        return new
        {
            window = windowSeconds,
            newest = newest == long.MinValue ? (double?)null : UnixSeconds(newest, offset),
            meters = series,
            power = new { t = powerChart.T, v = powerChart.V, latest = powerInWindow.Count > 0 ? powerInWindow[^1].Value : (double?)null },
            counters = new
            {
                accepted = counters.Accepted,
                rejected = new { malformed = counters.Malformed, unknownMeter = counters.UnknownMeter, outOfRange = counters.OutOfRange },
            },
        };
    }

    /// <summary>Meter timestamps are local wall-clock microseconds (since year 1); charts take Unix seconds.</summary>
    public static double UnixSeconds(long meterTimestamp, double utcOffsetSeconds) =>
        (meterTimestamp - (DateTime.UnixEpoch.Ticks / 10)) / 1e6 - utcOffsetSeconds;

    /// <summary>The local offset of the window's end, once per update rather than once per point.</summary>
    private static double OffsetAt(long meterTimestamp) =>
        meterTimestamp == long.MinValue ? 0 : TimeZoneInfo.Local.GetUtcOffset(MeterTimestamp.ToDateTime(meterTimestamp)).TotalSeconds;

    private static List<(double, double)> Points(List<TimedValue> values, double offset) => [.. values.Select(v => (UnixSeconds(v.Timestamp, offset), v.Value))];
}
