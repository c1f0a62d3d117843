namespace Rto.Server.Meters;

/// <summary>Why a reading was not stored.</summary>
public enum MeterRejectReason
{
    /// <summary>Not three fields, a bad IP, timestamp or number, or a line that is too long.</summary>
    Malformed,

    /// <summary>The IP is not in the registry.</summary>
    UnknownMeter,

    /// <summary>The value lies outside the meter's inclusive range.</summary>
    OutOfRange,

    /// <summary>The value is <c>nan</c>, <c>inf</c> or <c>-inf</c> (or too large a number, which Python reads as infinity).</summary>
    NotFinite,
}

/// <summary>Counts accepted and rejected readings since the server started. Thread-safe.</summary>
public sealed class MeterCounters
{
    private long _accepted;
    private long _malformed;
    private long _unknownMeter;
    private long _outOfRange;
    private long _notFinite;

    /// <summary>Readings stored.</summary>
    public long Accepted => Volatile.Read(ref _accepted);

    /// <summary>Lines rejected as malformed.</summary>
    public long Malformed => Volatile.Read(ref _malformed);

    /// <summary>Readings rejected because the meter is not registered.</summary>
    public long UnknownMeter => Volatile.Read(ref _unknownMeter);

    /// <summary>Readings rejected because the value is out of range.</summary>
    public long OutOfRange => Volatile.Read(ref _outOfRange);

    /// <summary>Readings rejected because the value is NaN or infinite.</summary>
    public long NotFinite => Volatile.Read(ref _notFinite);

    /// <summary>The count of one rejection reason.</summary>
    public long Rejected(MeterRejectReason reason) => reason switch
    {
        MeterRejectReason.Malformed => Malformed,
        MeterRejectReason.UnknownMeter => UnknownMeter,
        MeterRejectReason.NotFinite => NotFinite,
        _ => OutOfRange,
    };

    internal void Add(long accepted, long malformed, long unknownMeter, long outOfRange, long notFinite)
    {
        if (notFinite != 0)
        {
            Interlocked.Add(ref _notFinite, notFinite);
        }

        if (accepted != 0)
        {
            Interlocked.Add(ref _accepted, accepted);
        }

        if (malformed != 0)
        {
            Interlocked.Add(ref _malformed, malformed);
        }

        if (unknownMeter != 0)
        {
            Interlocked.Add(ref _unknownMeter, unknownMeter);
        }

        if (outOfRange != 0)
        {
            Interlocked.Add(ref _outOfRange, outOfRange);
        }
    }
}
