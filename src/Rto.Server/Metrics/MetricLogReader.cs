using System.Buffers;
using System.Buffers.Binary;

namespace Rto.Server.Metrics;

/// <summary>Receives the points read back from the log.</summary>
internal delegate void ReplayedPoint(ReadOnlySpan<byte> key, long timestamp, double value);

/// <summary>Reads the records of one log segment or snapshot file, stopping at the first bad one.</summary>
internal static class MetricLogReader
{
    public readonly record struct Result(long ValidLength, long Records, bool Clean, bool SawSnapshotEnd);

    /// <summary>
    /// Reads <paramref name="path"/> from the start, handing each put to <paramref name="onPoint"/>.
    /// <see cref="Result.ValidLength"/> is the offset just past the last good record; when
    /// <see cref="Result.Clean"/> is false, what follows is torn or corrupt.
    /// </summary>
    public static Result Read(string path, ReadOnlySpan<byte> magic, ReplayedPoint onPoint)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        Span<byte> header = stackalloc byte[MetricLogRecord.HeaderSize];
        if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header.SequenceEqual(magic))
        {
            return new Result(0, 0, Clean: file.Length == 0, SawSnapshotEnd: false);
        }

        long valid = header.Length;
        long records = 0;
        byte[] payload = ArrayPool<byte>.Shared.Rent(4096);
        try
        {
            while (true)
            {
                int read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
                if (read == 0)
                {
                    return new Result(valid, records, Clean: true, SawSnapshotEnd: false);
                }

                uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
                uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
                if (read < header.Length || length < MetricLogRecord.FixedPayloadSize || length > MetricLogRecord.MaxPayloadSize)
                {
                    return new Result(valid, records, Clean: false, SawSnapshotEnd: false);
                }

                if (payload.Length < length)
                {
                    ArrayPool<byte>.Shared.Return(payload);
                    payload = ArrayPool<byte>.Shared.Rent((int)length);
                }

                Span<byte> body = payload.AsSpan(0, (int)length);
                if (file.ReadAtLeast(body, body.Length, throwOnEndOfStream: false) < body.Length || MetricLogRecord.Crc32C(body) != crc)
                {
                    return new Result(valid, records, Clean: false, SawSnapshotEnd: false);
                }

                long timestamp = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
                switch (body[0])
                {
                    case MetricLogRecord.PutKind:
                        onPoint(body[MetricLogRecord.FixedPayloadSize..], timestamp, BinaryPrimitives.ReadDoubleLittleEndian(body[9..]));
                        records++;
                        break;
                    case MetricLogRecord.SnapshotEndKind:
                        valid += header.Length + length;
                        bool complete = timestamp == records;
                        return new Result(valid, records, Clean: complete, SawSnapshotEnd: complete);
                    default:
                        return new Result(valid, records, Clean: false, SawSnapshotEnd: false);
                }

                valid += header.Length + length;
            }
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }
}
