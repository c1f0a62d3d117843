namespace Rto.Server.Endpoints;

/// <summary>
/// Lets one kind of event be logged at most once per interval, counting the ones not logged in
/// between: a client (or an attacker) that repeats a mistake thousands of times a second then
/// costs one log line per interval, and the line still says how many there were.
/// </summary>
/// <remarks>Thread-safe and allocation-free; events are counted with one interlocked add.</remarks>
internal sealed class LogThrottle(TimeSpan interval)
{
    /// <summary>The interval of the kernel's own limit and rejection messages.</summary>
    public static readonly TimeSpan DefaultInterval = TimeSpan.FromSeconds(10);

    private readonly long _intervalMs = (long)interval.TotalMilliseconds;
    private long _nextLogAt = long.MinValue;
    private long _notLogged;

    public LogThrottle()
        : this(DefaultInterval)
    {
    }

    /// <summary>
    /// Records one event; true when it should be logged now, with <paramref name="notLogged"/> the
    /// number of events since the last one that was.
    /// </summary>
    public bool ShouldLog(out long notLogged)
    {
        long now = Environment.TickCount64;
        long next = Volatile.Read(ref _nextLogAt);
        if (now < next || Interlocked.CompareExchange(ref _nextLogAt, now + _intervalMs, next) != next)
        {
            Interlocked.Increment(ref _notLogged);
            notLogged = 0;
            return false;
        }

        notLogged = Interlocked.Exchange(ref _notLogged, 0);
        return true;
    }
}
