namespace Rto.Protocols.Metrics;

/// <summary>
/// Parses and prints metric values the way the original Python server did: a value is read with
/// <c>float()</c> (so <c>1_000.5</c>, <c>nan</c>, <c>inf</c> and <c>-inf</c> are values, and
/// <c>1e400</c> is <c>inf</c>) and printed with <c>repr</c> (<c>10.0</c>, <c>1e-05</c>,
/// <c>nan</c>). See <see cref="PythonNumber"/>.
/// </summary>
public static class MetricValue
{
    /// <summary>Enough bytes for any value printed by <see cref="TryFormat"/>.</summary>
    public const int MaxFormattedLength = PythonNumber.MaxFloatLength;

    /// <summary>Parses a value as Python's <c>float()</c> does (<c>10</c>, <c>-0.5</c>, <c>1e-3</c>, <c>1_000</c>, <c>nan</c>, <c>-inf</c>).</summary>
    public static bool TryParse(ReadOnlySpan<byte> text, out double value) => PythonNumber.TryParseFloat(text, out value);

    /// <summary>
    /// Writes <paramref name="value"/> as UTF-8 the way Python's <c>repr(float)</c> does.
    /// Returns false only when <paramref name="destination"/> is too small
    /// (<see cref="MaxFormattedLength"/> bytes always suffice).
    /// </summary>
    public static bool TryFormat(double value, Span<byte> destination, out int written) => PythonNumber.TryFormatFloat(value, destination, out written);
}
