using System.Buffers;
using System.Buffers.Binary;

namespace Rto.Server.Metrics;

/// <summary>
/// Reads log segments of either format, and snapshots of the first format, stopping at the first
/// torn or damaged record: what came before it is applied, what follows is reported as not clean.
/// </summary>
internal static class MetricLogReader
{
    /// <param name="ValidLength">The offset just past the last good record or frame.</param>
    /// <param name="Records">Puts applied.</param>
    /// <param name="Clean">False when what follows <paramref name="ValidLength"/> is torn or corrupt.</param>
    /// <param name="SawSnapshotEnd">A first-format snapshot's end record was read and matched.</param>
    public readonly record struct Result(long ValidLength, long Records, bool Clean, bool SawSnapshotEnd);

    /// <summary>The magic at the start of <paramref name="path"/>, or empty when it is shorter.</summary>
    public static byte[] ReadMagic(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1);
        byte[] magic = new byte[8];
        return file.ReadAtLeast(magic, 8, throwOnEndOfStream: false) == 8 ? magic : [];
    }

    /// <summary>Replays a segment of the current format (<see cref="MetricLogFormat.SegmentMagic"/>).</summary>
    public static Result ReadSegment(string path, IReplayTarget target)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite, 1 << 16, FileOptions.SequentialScan);
        Span<byte> header = stackalloc byte[MetricLogFormat.FrameHeaderSize];
        if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header.SequenceEqual(MetricLogFormat.SegmentMagic))
        {
            return new Result(0, 0, Clean: file.Length == 0, SawSnapshotEnd: false);
        }

        long valid = header.Length;
        long records = 0;
        var series = new List<(MetricSeries Series, long Timestamp, ulong Bits)>();
        byte[] payload = ArrayPool<byte>.Shared.Rent(1 << 16);
        try
        {
            while (true)
            {
                FrameStatus frame = ReadFrame(file, header, ref payload, 1, Math.Min(MetricLogFormat.MaxFrameSize, file.Length - valid - header.Length), out int length);
                if (frame != FrameStatus.Read)
                {
                    return new Result(valid, records, Clean: frame == FrameStatus.End, SawSnapshotEnd: false);
                }

                Span<byte> body = payload.AsSpan(0, length);

                if (!ApplyFrame(body, series, target, ref records))
                {
                    // A frame with a good checksum and bad records was written wrong, not torn: stop here all the same.
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

    /// <summary>
    /// Replays a file of the first format: a segment (<see cref="MetricLogRecord.SegmentMagic"/>) or
    /// a snapshot (<see cref="MetricLogRecord.SnapshotMagic"/>), one checksummed record per point.
    /// </summary>
    public static Result ReadFirstFormat(string path, ReadOnlySpan<byte> magic, IReplayTarget target)
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
                FrameStatus frame = ReadFrame(file, header, ref payload, MetricLogRecord.FixedPayloadSize, MetricLogRecord.MaxPayloadSize, out int length);
                if (frame != FrameStatus.Read)
                {
                    return new Result(valid, records, Clean: frame == FrameStatus.End, SawSnapshotEnd: false);
                }

                Span<byte> body = payload.AsSpan(0, length);

                long timestamp = BinaryPrimitives.ReadInt64LittleEndian(body[1..]);
                switch (body[0])
                {
                    case MetricLogRecord.PutKind:
                        target.Apply(target.Resolve(body[MetricLogRecord.FixedPayloadSize..]), timestamp, BinaryPrimitives.ReadDoubleLittleEndian(body[9..]));
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

    private static bool ApplyFrame(ReadOnlySpan<byte> frame, List<(MetricSeries Series, long Timestamp, ulong Bits)> series, IReplayTarget target, ref long records)
    {
        int position = 0;
        while (position < frame.Length)
        {
            byte kind = frame[position++];
            if (!MetricLogFormat.TryReadVarint(frame, ref position, out ulong id))
            {
                return false;
            }

            if (kind == MetricLogFormat.DefineKind)
            {
                if (id != (ulong)series.Count || !MetricLogFormat.TryReadVarint(frame, ref position, out ulong keyLength) || keyLength > (ulong)(frame.Length - position))
                {
                    return false;
                }

                series.Add((target.Resolve(frame.Slice(position, (int)keyLength)), 0, 0));
                position += (int)keyLength;
                continue;
            }

            if (kind < MetricLogFormat.PutKind || id >= (ulong)series.Count
                || !MetricLogFormat.TryReadVarint(frame, ref position, out ulong delta)
                || !MetricLogFormat.TryReadPutValue(frame, kind, ref position, out ulong xor))
            {
                return false;
            }

            (MetricSeries s, long previousTimestamp, ulong previousBits) = series[(int)id];
            long timestamp = unchecked(previousTimestamp + MetricLogFormat.UnZigZag(delta));
            ulong bits = previousBits ^ xor;
            series[(int)id] = (s, timestamp, bits);
            target.Apply(s, timestamp, BitConverter.Int64BitsToDouble((long)bits));
            records++;
        }

        return true;
    }

    private enum FrameStatus
    {
        Read,
        End,
        Torn,
    }

    /// <summary>
    /// Reads one frame (length, CRC-32C, payload) into <paramref name="payload"/>, growing it when
    /// needed: <see cref="FrameStatus.End"/> at a clean end of file, <see cref="FrameStatus.Torn"/> for
    /// a frame cut short, of an impossible length or with a wrong checksum (the end of what was written).
    /// </summary>
    private static FrameStatus ReadFrame(FileStream file, Span<byte> header, ref byte[] payload, long minLength, long maxLength, out int length)
    {
        length = 0;
        int read = file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false);
        if (read == 0)
        {
            return FrameStatus.End;
        }

        uint frameLength = BinaryPrimitives.ReadUInt32LittleEndian(header);
        uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
        if (read < header.Length || frameLength < minLength || frameLength > maxLength)
        {
            return FrameStatus.Torn;
        }

        length = (int)frameLength;
        if (payload.Length < length)
        {
            ArrayPool<byte>.Shared.Return(payload);
            payload = ArrayPool<byte>.Shared.Rent(length);
        }

        Span<byte> body = payload.AsSpan(0, length);
        return file.ReadAtLeast(body, body.Length, throwOnEndOfStream: false) == body.Length && MetricLogRecord.Crc32C(body) == crc
            ? FrameStatus.Read
            : FrameStatus.Torn;
    }
}
