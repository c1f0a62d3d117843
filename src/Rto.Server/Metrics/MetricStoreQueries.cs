using System.Buffers;
using System.Text;
using Rto.Protocols.Metrics;

namespace Rto.Server.Metrics;

/// <summary>
/// Read-only queries for the operator console, written on the store's public read methods only (the
/// ones <c>get</c> uses), so they keep working however the store keeps its points.
/// </summary>
internal static class MetricStoreQueries
{
    /// <summary>The keys starting with <paramref name="prefix"/> (ordinal), in key order, at most <paramref name="limit"/>; and how many match in all.</summary>
    public static (List<string> Keys, int Matching) ListKeys(this MetricStore store, string prefix, int limit)
    {
        byte[] wanted = Encoding.UTF8.GetBytes(prefix);
        var keys = new List<string>();
        int matching = 0;
        foreach (MetricSeries series in store.GetAllSeries())
        {
            if (series.Key.AsSpan().StartsWith(wanted))
            {
                if (matching++ < limit)
                {
                    keys.Add(Encoding.UTF8.GetString(series.Key));
                }
            }
        }

        return (keys, matching);
    }

    /// <summary>The points of <paramref name="key"/> with <paramref name="from"/> ≤ timestamp ≤ <paramref name="to"/> (Unix seconds), oldest first.</summary>
    public static List<(long Timestamp, double Value)> ReadPoints(this MetricStore store, string key, long from, long to)
    {
        var text = new ArrayBufferWriter<byte>();
        store.WritePoints(Encoding.UTF8.GetBytes(key), text);
        var points = new List<(long, double)>();
        ReadOnlySpan<byte> rest = text.WrittenSpan;
        while (rest.Length > 0)
        {
            int newline = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = newline < 0 ? rest : rest[..newline];
            rest = newline < 0 ? [] : rest[(newline + 1)..];
            if (MetricsResponseReader.TryParsePoint(line, out _, out double value, out long timestamp) && timestamp >= from && timestamp <= to)
            {
                points.Add((timestamp, value));
            }
        }

        return points;
    }
}
