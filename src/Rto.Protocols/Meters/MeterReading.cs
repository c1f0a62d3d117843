namespace Rto.Protocols.Meters;

/// <summary>One meter reading: which meter, when it was taken and the measured value.</summary>
/// <param name="Meter">
/// The meter, as its registry names it: any text without TAB or line breaks, usually its IPv4
/// address (<c>10.0.0.1</c>). Meters are told apart by this text, as the original server did:
/// <c>010.0.0.1</c> is not <c>10.0.0.1</c>.
/// </param>
/// <param name="Timestamp">Local time in microseconds, see <see cref="MeterTimestamp"/>.</param>
/// <param name="Value">The measured value, in the meter's unit.</param>
public readonly record struct MeterReading(string Meter, long Timestamp, double Value);

/// <summary>The unit a meter measures in.</summary>
public enum MeterUnit
{
    /// <summary>Volts (<c>В</c> or <c>V</c> in the registry).</summary>
    Volt,

    /// <summary>Amperes (<c>А</c> or <c>A</c> in the registry).</summary>
    Ampere,
}

/// <summary>One meter of the registry: its name, the inclusive valid range and its unit.</summary>
/// <param name="Meter">The meter's name in readings, usually its IPv4 address; any text without TAB or line breaks.</param>
/// <param name="RangeStart">The smallest valid value (inclusive; may be negative infinity).</param>
/// <param name="RangeStop">The largest valid value (inclusive; may be infinity).</param>
/// <param name="Unit">What the meter measures.</param>
public readonly record struct MeterDefinition(string Meter, double RangeStart, double RangeStop, MeterUnit Unit)
{
    /// <summary>Whether <paramref name="value"/> lies within <c>[RangeStart, RangeStop]</c> (never for NaN).</summary>
    public bool InRange(double value) => value >= RangeStart && value <= RangeStop;
}
