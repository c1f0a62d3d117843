using System.Globalization;
using Rto.Protocols.Meters;

namespace Rto.Samples.MeterSimulator;

/// <summary>Generates the lines meters send: every meter of the registry reads once per tick, at the same time.</summary>
public static class MeterSimulator
{
    /// <summary>
    /// Lines for <paramref name="ticks"/> ticks <paramref name="step"/> apart from <paramref name="start"/>, each a
    /// random in-range value; with <paramref name="badFraction"/> &gt; 0 that share of lines is malformed,
    /// out of range or from an unknown meter.
    /// </summary>
    public static IEnumerable<string> Lines(IReadOnlyList<MeterDefinition> meters, DateTime start, TimeSpan step, int ticks, double badFraction, Random random)
    {
        for (int tick = 0; ticks <= 0 || tick < ticks; tick++)
        {
            DateTime time = start + step * tick;
            string timestamp = time.ToString("yyyy.MM.dd HH:mm:ss.ffffff", CultureInfo.InvariantCulture);
            foreach (MeterDefinition meter in meters)
            {
                string ip = meter.Meter;
                double value = meter.RangeStart + random.NextDouble() * (meter.RangeStop - meter.RangeStart);
                if (badFraction > 0 && random.NextDouble() < badFraction)
                {
                    yield return random.Next(4) switch
                    {
                        0 => $"{ip}\t{timestamp}",
                        1 => $"{ip}\t{time:yyyy-MM-dd HH:mm:ss}\t{Format(value)}",
                        2 => $"{ip}\t{timestamp}\t{Format(meter.RangeStop + 1 + random.NextDouble())}",
                        _ => $"192.0.2.{random.Next(1, 255)}\t{timestamp}\t{Format(value)}",
                    };
                }
                else
                {
                    yield return $"{ip}\t{timestamp}\t{Format(value)}";
                }
            }
        }
    }

    private static string Format(double value) => value.ToString("0.######", CultureInfo.InvariantCulture);
}
