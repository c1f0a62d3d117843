namespace Rto.Client.Metrics;

/// <summary>One point of a series: a Unix timestamp in seconds and a value.</summary>
/// <param name="Timestamp">Unix time in seconds.</param>
/// <param name="Value">The value stored at that time.</param>
public readonly record struct MetricPoint(long Timestamp, double Value);

/// <summary>A point to store with <see cref="MetricsClient.PutManyAsync"/>.</summary>
/// <param name="Key">The metric key: no whitespace or control characters.</param>
/// <param name="Value">A finite value.</param>
/// <param name="Timestamp">Unix time in seconds.</param>
public readonly record struct MetricSample(string Key, double Value, long Timestamp);
