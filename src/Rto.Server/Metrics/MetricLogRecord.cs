using System.Buffers.Binary;
using System.Numerics;

namespace Rto.Server.Metrics;

/// <summary>
/// The record of the first on-disk format (<c>RTOMLOG1</c> segments, <c>RTOMSNP1</c> snapshots),
/// still read so that data directories written by earlier versions load:
/// <c>[u32 length][u32 CRC-32C of payload][payload]</c>, little-endian, where the payload
/// is <c>[u8 kind][i64 timestamp][f64 value][key bytes]</c>. Also home of the CRC-32C both formats use.
/// </summary>
internal static class MetricLogRecord
{
    public static ReadOnlySpan<byte> SegmentMagic => "RTOMLOG1"u8;

    public static ReadOnlySpan<byte> SnapshotMagic => "RTOMSNP1"u8;

    public const int HeaderSize = 8;
    public const int FixedPayloadSize = 17;

    /// <summary>Larger lengths can only come from corruption: keys are bounded by the line limit.</summary>
    public const int MaxPayloadSize = 16 * 1024 * 1024;

    public const byte PutKind = 1;

    /// <summary>The last record of a complete snapshot; its timestamp field holds the point count.</summary>
    public const byte SnapshotEndKind = 2;

    public static int SizeOf(int keyLength) => HeaderSize + FixedPayloadSize + keyLength;

    public static void Write(Span<byte> destination, byte kind, ReadOnlySpan<byte> key, long timestamp, double value)
    {
        Span<byte> payload = destination.Slice(HeaderSize, FixedPayloadSize + key.Length);
        payload[0] = kind;
        BinaryPrimitives.WriteInt64LittleEndian(payload[1..], timestamp);
        BinaryPrimitives.WriteDoubleLittleEndian(payload[9..], value);
        key.CopyTo(payload[FixedPayloadSize..]);
        BinaryPrimitives.WriteUInt32LittleEndian(destination, (uint)payload.Length);
        BinaryPrimitives.WriteUInt32LittleEndian(destination[4..], Crc32C(payload));
    }

    public static uint Crc32C(ReadOnlySpan<byte> data)
    {
        uint crc = 0xFFFFFFFF;
        while (data.Length >= 8)
        {
            crc = BitOperations.Crc32C(crc, BinaryPrimitives.ReadUInt64LittleEndian(data));
            data = data[8..];
        }

        foreach (byte b in data)
        {
            crc = BitOperations.Crc32C(crc, b);
        }

        return ~crc;
    }
}
