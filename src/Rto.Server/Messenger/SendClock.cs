using Google.Protobuf.WellKnownTypes;

namespace Rto.Server.Messenger;

/// <summary>
/// Hands out send times that strictly increase, also within one clock tick and when the wall
/// clock steps back, and whose RFC 3339 text sorts like the times themselves.
/// </summary>
/// <remarks>
/// Protobuf's JSON form (what grpcurl and JSON clients print) shows 0, 3, 6 or 9 fractional
/// digits depending on the trailing zeros of <c>nanos</c>, so <c>…22Z</c> would sort after
/// <c>…22.000000100Z</c> and <c>…22.100Z</c> after <c>…22.100100Z</c>. A time whose nanoseconds
/// are not a multiple of 1000 always prints all 9 digits, so every time handed out is nudged to
/// such a value: the text then has a fixed width and sorts as the time does. Not thread-safe:
/// the caller serializes calls (the chat room does under its lock).
/// </remarks>
internal sealed class SendClock(TimeProvider? time = null)
{
    private const long NanosPerSecond = 1_000_000_000;
    private const long NanosPerTick = 100;

    private long _lastUnixNanos;

    /// <summary>The send time of a message accepted now.</summary>
    public Timestamp Next() => At(((time ?? TimeProvider.System).GetUtcNow().UtcTicks - DateTime.UnixEpoch.Ticks) * NanosPerTick);

    /// <summary>
    /// The send time of a message whose time was taken elsewhere (in a cluster, when the stream
    /// stored it, in nanoseconds since 1970): that time nudged as above, and later than the last one.
    /// </summary>
    public Timestamp At(long unixNanos)
    {
        long next = Math.Max(unixNanos, _lastUnixNanos + 1);
        if (next % 1000 == 0)
        {
            next++;
        }

        _lastUnixNanos = next;
        return new Timestamp { Seconds = next / NanosPerSecond, Nanos = (int)(next % NanosPerSecond) };
    }
}
