using System.Buffers;
using System.Buffers.Binary;

namespace Rto.Server.Metrics;

/// <summary>
/// Snapshots of the current format (<c>RTOMSNP2</c>): every series' chunks as they are in memory,
/// so loading one copies compressed bytes instead of replaying points. Framed like the log
/// (<see cref="MetricLogFormat"/>); frame payloads:
/// <list type="bullet">
/// <item><c>0x01 [varint key length][key][varint chunks][chunk]…</c> starts a series;</item>
/// <item><c>0x02 [varint chunks][chunk]…</c> continues it (a series is split into frames of about 1 MB);</item>
/// <item><c>0x09 [varint series][varint chunks][varint points]</c> ends a complete snapshot.</item>
/// </list>
/// A chunk is <c>[varint points][i64 first][i64 last][varint length][bytes]</c>; a series' last chunk
/// is its open head.
/// </summary>
internal static class MetricSnapshot
{
    private const byte SeriesKind = 0x01;
    private const byte MoreChunksKind = 0x02;
    private const byte EndKind = 0x09;
    private const int FrameTarget = 1 << 20;

    public readonly record struct Result(bool Complete, long Series, long Chunks, long Points);

    /// <summary>Writes one snapshot file: <see cref="WriteSeries"/> per series, then <see cref="Complete"/>.</summary>
    public sealed class Writer : IDisposable
    {
        private readonly FileStream _file;
        private byte[] _frame = new byte[FrameTarget + 4096];
        private int _length;

        public Writer(string path)
        {
            _file = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16);
            _file.Write(MetricLogFormat.SnapshotMagic);
        }

        public long Series { get; private set; }

        public long Chunks { get; private set; }

        public long Points { get; private set; }

        public long Length => _file.Length;

        public void WriteSeries(ReadOnlySpan<byte> key, List<MetricChunk> chunks)
        {
            if (chunks.Count == 0)
            {
                return;
            }

            Series++;
            int index = 0;
            bool first = true;
            while (index < chunks.Count)
            {
                // How many chunks go into this frame.
                int end = index;
                long size = 0;
                do
                {
                    size += chunks[end].Length + 32;
                    end++;
                }
                while (end < chunks.Count && size + chunks[end].Length < FrameTarget);

                Start(first ? SeriesKind : MoreChunksKind);
                if (first)
                {
                    Varint((ulong)key.Length);
                    Bytes(key);
                }

                Varint((ulong)(end - index));
                for (; index < end; index++)
                {
                    MetricChunk chunk = chunks[index];
                    Varint((ulong)chunk.Count);
                    Int64(chunk.First);
                    Int64(chunk.Last);
                    Varint((ulong)chunk.Length);
                    Bytes(chunk.Bytes);
                    Chunks++;
                    Points += chunk.Count;
                }

                Flush();
                first = false;
            }
        }

        /// <summary>Writes the end frame and forces the file to disk.</summary>
        public void Complete()
        {
            Start(EndKind);
            Varint((ulong)Series);
            Varint((ulong)Chunks);
            Varint((ulong)Points);
            Flush();
            _file.Flush(flushToDisk: true);
        }

        public void Dispose() => _file.Dispose();

        private void Start(byte kind)
        {
            _length = MetricLogFormat.FrameHeaderSize;
            _frame[_length++] = kind;
        }

        private void Reserve(int bytes)
        {
            if (_length + bytes > _frame.Length)
            {
                Array.Resize(ref _frame, Math.Max(_frame.Length * 2, _length + bytes));
            }
        }

        private void Varint(ulong value)
        {
            Reserve(10);
            _length += MetricLogFormat.WriteVarint(_frame.AsSpan(_length), value);
        }

        private void Int64(long value)
        {
            Reserve(8);
            BinaryPrimitives.WriteInt64LittleEndian(_frame.AsSpan(_length), value);
            _length += 8;
        }

        private void Bytes(ReadOnlySpan<byte> bytes)
        {
            Reserve(bytes.Length);
            bytes.CopyTo(_frame.AsSpan(_length));
            _length += bytes.Length;
        }

        private void Flush()
        {
            MetricLogFormat.CompleteFrame(_frame.AsSpan(0, _length));
            _file.Write(_frame, 0, _length);
        }
    }

    /// <summary>Loads a snapshot into <paramref name="target"/>; <see cref="Result.Complete"/> is false for a damaged or cut one.</summary>
    public static Result Read(string path, IReplayTarget target)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1 << 16, FileOptions.SequentialScan);
        Span<byte> header = stackalloc byte[MetricLogFormat.FrameHeaderSize];
        if (file.ReadAtLeast(header, header.Length, throwOnEndOfStream: false) < header.Length || !header.SequenceEqual(MetricLogFormat.SnapshotMagic))
        {
            return default;
        }

        long series = 0;
        long chunks = 0;
        long points = 0;
        MetricSeries? current = null;
        byte[] payload = ArrayPool<byte>.Shared.Rent(FrameTarget + 4096);
        try
        {
            long remaining = file.Length - header.Length;
            while (remaining >= header.Length)
            {
                file.ReadExactly(header);
                remaining -= header.Length;
                uint length = BinaryPrimitives.ReadUInt32LittleEndian(header);
                uint crc = BinaryPrimitives.ReadUInt32LittleEndian(header[4..]);
                if (length == 0 || length > remaining || length > MetricLogFormat.MaxFrameSize)
                {
                    break;
                }

                if (payload.Length < length)
                {
                    ArrayPool<byte>.Shared.Return(payload);
                    payload = ArrayPool<byte>.Shared.Rent((int)length);
                }

                Span<byte> body = payload.AsSpan(0, (int)length);
                file.ReadExactly(body);
                remaining -= length;
                if (MetricLogRecord.Crc32C(body) != crc)
                {
                    break;
                }

                int position = 1;
                switch (body[0])
                {
                    case SeriesKind:
                        current?.FinishLoad();
                        if (!MetricLogFormat.TryReadVarint(body, ref position, out ulong keyLength) || keyLength > (ulong)(body.Length - position))
                        {
                            return new Result(false, series, chunks, points);
                        }

                        current = target.Resolve(body.Slice(position, (int)keyLength));
                        if (!current.IsEmpty || current.Chunks.Length > 0)
                        {
                            return new Result(false, series, chunks, points);
                        }

                        position += (int)keyLength;
                        series++;
                        goto case MoreChunksKind;
                    case MoreChunksKind:
                        if (current is null || !ReadChunks(body, ref position, current, ref chunks, ref points))
                        {
                            return new Result(false, series, chunks, points);
                        }

                        break;
                    case EndKind:
                        current?.FinishLoad();
                        bool complete = MetricLogFormat.TryReadVarint(body, ref position, out ulong s) && s == (ulong)series
                            && MetricLogFormat.TryReadVarint(body, ref position, out ulong c) && c == (ulong)chunks
                            && MetricLogFormat.TryReadVarint(body, ref position, out ulong p) && p == (ulong)points;
                        return new Result(complete, series, chunks, points);
                    default:
                        return new Result(false, series, chunks, points);
                }
            }

            return new Result(false, series, chunks, points);
        }
        catch (InvalidDataException)
        {
            return new Result(false, series, chunks, points);
        }
        finally
        {
            ArrayPool<byte>.Shared.Return(payload);
        }
    }

    private static bool ReadChunks(ReadOnlySpan<byte> body, ref int position, MetricSeries series, ref long chunks, ref long points)
    {
        if (!MetricLogFormat.TryReadVarint(body, ref position, out ulong count))
        {
            return false;
        }

        for (ulong i = 0; i < count; i++)
        {
            if (!MetricLogFormat.TryReadVarint(body, ref position, out ulong pointCount) || pointCount is 0 or > int.MaxValue
                || body.Length - position < 16)
            {
                return false;
            }

            long first = BinaryPrimitives.ReadInt64LittleEndian(body[position..]);
            long last = BinaryPrimitives.ReadInt64LittleEndian(body[(position + 8)..]);
            position += 16;
            if (!MetricLogFormat.TryReadVarint(body, ref position, out ulong length) || length > (ulong)(body.Length - position))
            {
                return false;
            }

            series.AddLoaded(new MetricChunk(body.Slice(position, (int)length).ToArray(), (int)length, (int)pointCount, first, last));
            position += (int)length;
            chunks++;
            points += (long)pointCount;
        }

        return position == body.Length;
    }
}
