using Microsoft.Extensions.Logging;
using Rto.Protocols.Meters;
using Rto.Server.Meters;

namespace Rto.Server.Tests.Meters;

/// <summary>Registry reloads wait for the file to settle and never swap in a broken file.</summary>
[TestClass]
public sealed class MeterRegistryReloadTests
{
    private const string Registry = "10.0.0.1\t0\t110\tВ\n10.0.0.2\t0\t0.5\tА\n10.0.0.3\t0.2\t1\tA\n";

    /// <summary>
    /// Replaces the file in one step (write aside, then rename), as most editors save: a plain
    /// rewrite can be seen half-written by a reload that fires during a slow write.
    /// </summary>
    private static async Task ReplaceAsync(string path, string text)
    {
        string temporary = path + ".saving";
        await File.WriteAllTextAsync(temporary, text);
        File.Move(temporary, path, overwrite: true);
    }

    private static string WriteRegistry(string text)
    {
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "registry.tsv");
        File.WriteAllText(path, text);
        return path;
    }

    private static Task<MeterRegistryReload> NextReloadAsync(MeterRegistry registry)
    {
        var reloaded = new TaskCompletionSource<MeterRegistryReload>(TaskCreationOptions.RunContinuationsAsynchronously);
        registry.Reloaded += result => reloaded.TrySetResult(result);
        return reloaded.Task.WaitAsync(TimeSpan.FromSeconds(15));
    }

    [TestMethod]
    public async Task ASaveInSeveralStepsIsReloadedOnceWithASummary()
    {
        string path = WriteRegistry(Registry);
        var log = new ListLogger<MeterRegistry>();
        using var registry = new MeterRegistry(path, log, TimeSpan.FromMilliseconds(200));
        int reloads = 0;
        registry.Reloaded += _ => Interlocked.Increment(ref reloads);
        Task<MeterRegistryReload> reloaded = NextReloadAsync(registry);

        // As an editor saves: truncate, then write the new content in pieces.
        await using (var file = new FileStream(path, FileMode.Truncate, FileAccess.Write, FileShare.ReadWrite))
        {
            await file.FlushAsync();
            await file.WriteAsync("10.0.0.1\t0\t220\tV\n"u8.ToArray());
            await file.FlushAsync();
            await file.WriteAsync("10.0.0.3\t0.2\t1\tA\n10.0.0.9\t0\t1\tA\n"u8.ToArray());
        }

        MeterRegistryReload result = await reloaded;
        Assert.AreEqual(new MeterRegistryReload(true, 1, 1, 1), result, "10.0.0.9 added, 10.0.0.2 removed, 10.0.0.1 changed");
        Assert.AreEqual(1, Volatile.Read(ref reloads), "the intermediate states were never loaded");
        Assert.AreEqual(2, registry.Version);
        Assert.IsTrue(registry.TryGet("10.0.0.1", out MeterDefinition changed));
        Assert.AreEqual(220, changed.RangeStop);
        Assert.IsFalse(registry.TryGet("10.0.0.2", out _));
        Assert.Contains(m => m.Contains("1 added, 1 removed, 1 changed", StringComparison.Ordinal), log.Messages);
    }

    [TestMethod]
    public async Task ABrokenFileKeepsThePreviousRegistryAndNamesTheLine()
    {
        string path = WriteRegistry(Registry);
        var log = new ListLogger<MeterRegistry>();
        using var registry = new MeterRegistry(path, log, TimeSpan.FromMilliseconds(50));
        Task<MeterRegistryReload> reloaded = NextReloadAsync(registry);

        await ReplaceAsync(path, "10.0.0.1\t0\t110\tV\n10.0.0.9\t0\t1\tA\n10.0.0.7\tzero\t1\tA\n");

        Assert.IsFalse((await reloaded).Swapped);
        Assert.AreEqual(1, registry.Version);
        Assert.IsTrue(registry.TryGet("10.0.0.2", out _), "the previous registry stays");
        Assert.IsFalse(registry.TryGet("10.0.0.9", out _), "no part of the broken file is used");
        string error = log.Messages.Single(m => m.StartsWith("Error:", StringComparison.Ordinal));
        StringAssert.Contains(error, "line 3");
        StringAssert.Contains(error, "10.0.0.7");
    }

    [TestMethod]
    public async Task AnEmptiedFileKeepsThePreviousRegistry()
    {
        string path = WriteRegistry(Registry);
        using var registry = new MeterRegistry(path, new ListLogger<MeterRegistry>(), TimeSpan.FromMilliseconds(50));
        Task<MeterRegistryReload> reloaded = NextReloadAsync(registry);

        await ReplaceAsync(path, "# all meters removed for maintenance\n");

        Assert.IsFalse((await reloaded).Swapped);
        Assert.HasCount(3, registry.Meters);
    }

    /// <summary>Keeps formatted log messages, prefixed with their level.</summary>
    private sealed class ListLogger<T> : ILogger<T>
    {
        private readonly List<string> _messages = [];

        public IReadOnlyList<string> Messages
        {
            get
            {
                lock (_messages)
                {
                    return [.. _messages];
                }
            }
        }

        public IDisposable? BeginScope<TState>(TState state)
            where TState : notnull => null;

        public bool IsEnabled(LogLevel logLevel) => true;

        public void Log<TState>(LogLevel logLevel, EventId eventId, TState state, Exception? exception, Func<TState, Exception?, string> formatter)
        {
            lock (_messages)
            {
                _messages.Add($"{logLevel}: {formatter(state, exception)}");
            }
        }
    }
}
