using System.Collections.Concurrent;
using System.Diagnostics;
using CsCheck;

namespace Rto.Fuzzing;

/// <summary>How long (or how many inputs) to fuzz, and how a failure is reproduced.</summary>
/// <param name="Time">Run for this long (whole seconds, as CsCheck counts them); null to run <paramref name="Iterations"/> inputs.</param>
/// <param name="Iterations">The number of inputs when <paramref name="Time"/> is null.</param>
/// <param name="Threads">Threads sampling at once (the machine is shared: 1 by default).</param>
/// <param name="Seed">A CsCheck seed from an earlier failure, to replay it; null for a random start.</param>
public sealed record FuzzSettings(TimeSpan? Time, long Iterations = 1000, int Threads = 1, string? Seed = null)
{
    /// <summary>
    /// One input taking longer than this fails as "slow" (and is shrunk like any failure): the
    /// parsers take microseconds per input (a model compiles in milliseconds), so this is a hang;
    /// the margin is for a loaded machine, where single inputs were seen to take 0.7 s.
    /// </summary>
    public TimeSpan SlowInput { get; init; } = TimeSpan.FromSeconds(5);

    /// <summary>One input still running after this counts as a hang: the run stops and reports it without waiting.</summary>
    public TimeSpan HangInput { get; init; } = TimeSpan.FromSeconds(20);
}

/// <summary>What one run found.</summary>
/// <param name="Target">The target's name.</param>
/// <param name="Inputs">Inputs checked, shrinking included.</param>
/// <param name="Elapsed">Wall time of the run.</param>
/// <param name="SlowestInput">The longest any one input took.</param>
/// <param name="Failure">Null when every input kept every property; else the (shrunk) input, the seed and the property broken.</param>
public sealed record FuzzResult(string Target, long Inputs, TimeSpan Elapsed, TimeSpan SlowestInput, string? Failure)
{
    /// <summary>True when no input broke a property.</summary>
    public bool Clean => Failure is null;
}

/// <summary>
/// Runs a target through CsCheck's <c>Sample</c> (which shrinks a failing input and prints its
/// seed), timing every input and watching from outside for one that never returns: CsCheck
/// cannot stop a looping parser, so the watchdog reports it and abandons that thread.
/// </summary>
public static class FuzzRunner
{
    /// <summary>Runs <paramref name="check"/> over <paramref name="inputs"/> as <paramref name="settings"/> say.</summary>
    public static FuzzResult Run<T>(string name, Gen<T> inputs, Action<T> check, Func<T, string> print, FuzzSettings settings)
    {
        ArgumentNullException.ThrowIfNull(inputs);
        ArgumentNullException.ThrowIfNull(check);
        ArgumentNullException.ThrowIfNull(settings);
        var running = new ConcurrentDictionary<int, (T Input, long Started)>();
        long count = 0;
        long slowest = 0;
        long slowLimit = (long)(settings.SlowInput.TotalSeconds * Stopwatch.Frequency);

        void Checked(T input)
        {
            int thread = Environment.CurrentManagedThreadId;
            long started = Stopwatch.GetTimestamp();
            running[thread] = (input, started);
            try
            {
                check(input);
            }
            catch (FuzzPropertyException)
            {
                throw;
            }
            catch (Exception ex)
            {
                string where = string.Join(" < ", (ex.StackTrace ?? "").Split('\n', StringSplitOptions.TrimEntries).Take(4));
                throw new FuzzPropertyException($"threw an exception it does not document: {ex.GetType().Name}: {ex.Message} {where}", ex);
            }
            finally
            {
                running.TryRemove(thread, out _);
                Interlocked.Increment(ref count);
            }

            long took = Stopwatch.GetTimestamp() - started;
            InterlockedMax(ref slowest, took);
            if (took > slowLimit)
            {
                throw new FuzzPropertyException($"one input took {Stopwatch.GetElapsedTime(started, started + took).TotalMilliseconds:0} ms (limit {settings.SlowInput.TotalMilliseconds:0} ms)");
            }
        }

        var clock = Stopwatch.StartNew();
        Task sampling = Task.Factory.StartNew(
            () => inputs.Sample(
                Checked,
                seed: settings.Seed,
                iter: settings.Time is null ? settings.Iterations : -1,
                time: settings.Time is { } time ? Math.Max(1, (int)Math.Round(time.TotalSeconds)) : -1,
                threads: settings.Threads,
                print: print),
            CancellationToken.None,
            TaskCreationOptions.LongRunning,
            TaskScheduler.Default);

        string? failure = null;
        while (Task.WaitAny([sampling], TimeSpan.FromMilliseconds(100)) < 0)
        {
            foreach ((T input, long started) in running.Values)
            {
                if (Stopwatch.GetElapsedTime(started) > settings.HangInput)
                {
                    failure = $"hung: one input has run for over {settings.HangInput.TotalSeconds:0} s (its thread is abandoned): {print(input)}";
                    break;
                }
            }

            if (failure is not null)
            {
                break;
            }
        }

        if (failure is null && sampling.Exception is { } error)
        {
            // CsCheck's message has the seed and the shrunk input; the property broken is inside it.
            failure = string.Join(Environment.NewLine, error.InnerExceptions.Select(e => e.InnerException is { } broken ? $"{e.Message}{Environment.NewLine}{broken.Message}" : e.Message));
        }

        return new FuzzResult(name, Interlocked.Read(ref count), clock.Elapsed, Stopwatch.GetElapsedTime(0, Interlocked.Read(ref slowest)), failure);
    }

    private static void InterlockedMax(ref long target, long value)
    {
        long current = Interlocked.Read(ref target);
        while (value > current)
        {
            long seen = Interlocked.CompareExchange(ref target, value, current);
            if (seen == current)
            {
                return;
            }

            current = seen;
        }
    }
}
