namespace Rto.Protocols.Meters;

/// <summary>One meter reading: the meter's IPv4 address, when it was taken and the measured value.</summary>
/// <param name="Ip">The meter's IPv4 address as a big-endian number (<c>10.0.0.1</c> is <c>0x0A000001</c>).</param>
/// <param name="Timestamp">Local time in microseconds, see <see cref="MeterTimestamp"/>.</param>
/// <param name="Value">The measured value, in the meter's unit.</param>
public readonly record struct MeterReading(uint Ip, long Timestamp, double Value);

/// <summary>The unit a meter measures in.</summary>
public enum MeterUnit
{
    /// <summary>Volts (<c>В</c> or <c>V</c> in the registry).</summary>
    Volt,

    /// <summary>Amperes (<c>А</c> or <c>A</c> in the registry).</summary>
    Ampere,
}

/// <summary>One meter of the registry: its address, the inclusive valid range and its unit.</summary>
/// <param name="Ip">The meter's IPv4 address as a big-endian number.</param>
/// <param name="RangeStart">The smallest valid value (inclusive).</param>
/// <param name="RangeStop">The largest valid value (inclusive).</param>
/// <param name="Unit">What the meter measures.</param>
public readonly record struct MeterDefinition(uint Ip, double RangeStart, double RangeStop, MeterUnit Unit)
{
    /// <summary>Whether <paramref name="value"/> lies within <c>[RangeStart, RangeStop]</c>.</summary>
    public bool InRange(double value) => value >= RangeStart && value <= RangeStop;
}
