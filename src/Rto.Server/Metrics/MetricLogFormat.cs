using System.Buffers.Binary;
using System.Numerics;

namespace Rto.Server.Metrics;

/// <summary>Receives what recovery reads back: series by key, and their points or chunks.</summary>
internal interface IReplayTarget
{
    /// <summary>The series of <paramref name="key"/>, created if new.</summary>
    MetricSeries Resolve(ReadOnlySpan<byte> key);

    /// <summary>Applies one logged put.</summary>
    void Apply(MetricSeries series, long timestamp, double value);

    /// <summary>Forgets everything loaded so far (a snapshot turned out damaged; an older one is tried).</summary>
    void Reset();
}

/// <summary>
/// The second log format (<c>RTOMLOG2</c>) and the framing shared with snapshots (<c>RTOMSNP2</c>).
/// A file is its magic, then frames <c>[u32 payload length][u32 CRC-32C of payload][payload]</c>,
/// little-endian. A log frame is what one write of the group commit carried; its records are
/// <list type="bullet">
/// <item><c>0x01 [varint id][varint key length][key]</c>: names a series for the rest of the segment;</item>
/// <item><c>0x80 + 8·L + T [varint id][varint zigzag timestamp delta][value bytes]</c>: a put. The
/// timestamp is relative to the series' previous put in the segment (0 at first), the value is XORed
/// with that put's value (0 at first) and stored without its L leading and T trailing zero bytes.</item>
/// </list>
/// A put of a regular series repeating its value takes 4 bytes; one of a random double about 12.
/// </summary>
internal static class MetricLogFormat
{
    public static ReadOnlySpan<byte> SegmentMagic => "RTOMLOG2"u8;

    public static ReadOnlySpan<byte> SnapshotMagic => "RTOMSNP2"u8;

    public const int FrameHeaderSize = 8;

    /// <summary>Larger frames can only come from corruption (a write batch is bounded by what connections appended).</summary>
    public const int MaxFrameSize = 1 << 30;

    public const byte DefineKind = 0x01;
    public const byte PutKind = 0x80;

    /// <summary>The most a put record takes: kind, id, timestamp delta, value.</summary>
    public const int MaxPutSize = 1 + 5 + 10 + 8;

    public static int WriteDefine(Span<byte> destination, int id, ReadOnlySpan<byte> key)
    {
        destination[0] = DefineKind;
        int length = 1 + WriteVarint(destination[1..], (uint)id);
        length += WriteVarint(destination[length..], (uint)key.Length);
        key.CopyTo(destination[length..]);
        return length + key.Length;
    }

    public static int WritePut(Span<byte> destination, int id, long timestampDelta, ulong valueXor)
    {
        int leading = valueXor == 0 ? 8 : BitOperations.LeadingZeroCount(valueXor) >> 3;
        int trailing = valueXor == 0 ? 0 : BitOperations.TrailingZeroCount(valueXor) >> 3;
        destination[0] = (byte)(PutKind + (leading * 8) + trailing);
        int length = 1 + WriteVarint(destination[1..], (uint)id);
        length += WriteVarint(destination[length..], ZigZag(timestampDelta));
        for (int b = 7 - leading; b >= trailing; b--)
        {
            destination[length++] = (byte)(valueXor >> (b * 8));
        }

        return length;
    }

    /// <summary>Reads a put's value bytes back into the XOR they were cut from.</summary>
    public static bool TryReadPutValue(ReadOnlySpan<byte> source, byte kind, ref int position, out ulong valueXor)
    {
        int code = kind - PutKind;
        int leading = code >> 3;
        int trailing = code & 7;
        valueXor = 0;
        if (leading > 8 || leading + trailing > 8 || (leading == 8 && trailing != 0))
        {
            return false;
        }

        int bytes = 8 - leading - trailing;
        if (source.Length - position < bytes)
        {
            return false;
        }

        for (int b = 7 - leading; b >= trailing; b--)
        {
            valueXor |= (ulong)source[position++] << (b * 8);
        }

        return true;
    }

    public static ulong ZigZag(long value) => (ulong)((value << 1) ^ (value >> 63));

    public static long UnZigZag(ulong value) => (long)(value >> 1) ^ -(long)(value & 1);

    public static int WriteVarint(Span<byte> destination, ulong value)
    {
        int length = 0;
        while (value >= 0x80)
        {
            destination[length++] = (byte)(value | 0x80);
            value >>= 7;
        }

        destination[length++] = (byte)value;
        return length;
    }

    public static bool TryReadVarint(ReadOnlySpan<byte> source, ref int position, out ulong value)
    {
        value = 0;
        for (int shift = 0; shift < 70 && position < source.Length; shift += 7)
        {
            byte b = source[position++];
            value |= (ulong)(b & 0x7F) << shift;
            if (b < 0x80)
            {
                return shift < 63 || b <= 1;
            }
        }

        return false;
    }

    /// <summary>Fills in the header of a frame whose payload follows it in <paramref name="frame"/>.</summary>
    public static void CompleteFrame(Span<byte> frame)
    {
        ReadOnlySpan<byte> payload = frame[FrameHeaderSize..];
        BinaryPrimitives.WriteUInt32LittleEndian(frame, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(frame[4..], MetricLogRecord.Crc32C(payload));
    }
}
