using System.Collections.Concurrent;
using Microsoft.Extensions.Logging;

namespace Rto.Server.Tests.Optimization.Models;

/// <summary>Keeps every log entry so a test can assert what the operator would have seen.</summary>
internal sealed class RecordingLogger<T> : ILogger<T>
{
    public ConcurrentQueue<(LogLevel Level, string Message)> Entries { get; } = new();

    public IDisposable? BeginScope<TState>(TState state)
        where TState : notnull => null;

    public bool IsEnabled(LogLevel logLevel) => true;

    public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
    {
        Entries.Enqueue((logLevel, formatter(state, exception)));
    }

    public bool Logged(LogLevel level, string part) => Entries.Any(e => e.Level == level && e.Message.Contains(part, StringComparison.Ordinal));
}
