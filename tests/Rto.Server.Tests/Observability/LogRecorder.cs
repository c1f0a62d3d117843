using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Rto.Server.Tests.Observability;

/// <summary>
/// Keeps every log event one server writes, after the server's own level filters (add it with
/// <c>builder.Logging.AddProvider</c>, without a filter of its own, to see what the console sees).
/// </summary>
internal sealed class LogRecorder : ILoggerProvider
{
    public ConcurrentQueue<Entry> Entries { get; } = new();

    /// <summary>The events whose category starts with <paramref name="categoryPrefix"/>, at <paramref name="level"/> or above.</summary>
    public Entry[] Find(string categoryPrefix, LogLevel level = LogLevel.Trace) =>
        [.. Entries.Where(e => e.Category.StartsWith(categoryPrefix, StringComparison.Ordinal) && e.Level >= level)];

    /// <summary>Every event, one per line, for an assertion message.</summary>
    public string Describe() => string.Join('\n', Entries.Select(e => $"{e.Level} {e.Category}: {e.Message}"));

    public ILogger CreateLogger(string categoryName) => new Logger(this, categoryName);

    public void Dispose()
    {
    }

    public sealed record Entry(string Category, LogLevel Level, string Message, Exception? Exception);

    private sealed class Logger(LogRecorder recorder, string category) : ILogger
    {
        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter) =>
            recorder.Entries.Enqueue(new Entry(category, logLevel, formatter(state, exception), exception));
    }
}
