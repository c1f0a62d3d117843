using System.Buffers;

namespace Rto.Server.Metrics;

/// <summary>
/// The points of one key, one value per timestamp, as compressed chunks: closed chunks in time
/// order, an open head chunk taking the newest points, and a small sorted buffer for points that
/// arrive late (backfill, overwrites of older points), merged into the chunks when it fills.
/// Not thread-safe: <see cref="MetricStore"/> locks the series around every call.
/// </summary>
/// <remarks>
/// A put later than the newest point is appended to the head (it closes at
/// <see cref="ChunkPoints"/> points); a put at the newest timestamp rewrites the head's last
/// point; anything earlier goes to the late buffer, whose points win over chunk points of the same
/// timestamp. Merging the buffer rewrites only the chunks it overlaps, and points in gaps between
/// chunks go into new or neighbouring chunks, so a backfill in decreasing time order costs about
/// what appending does.
/// </remarks>
internal sealed class MetricSeries(byte[] key, bool decimalValues = true)
{
    /// <summary>Points per chunk: large enough that per-chunk costs vanish, small enough that rewriting one for a late point is cheap.</summary>
    public const int ChunkPoints = 512;

    /// <summary>
    /// The head also closes at this many bytes, so the room every series keeps for its head stays
    /// small even for values that hardly compress (random doubles fill it in about 120 points).
    /// </summary>
    public const int ChunkBytes = 1024;

    /// <summary>
    /// Late points buffered before they are merged into the chunks: a full chunk's worth, so a
    /// backfill becomes whole new chunks and rewrites nothing.
    /// </summary>
    public const int LateCapacity = ChunkPoints;

    /// <summary>The accounted cost of a series beyond its points: this object, its dictionary entry, the key array and the head.</summary>
    private const int SeriesOverhead = 256;

    private MetricChunk[] _chunks = [];
    private int _chunkCount;
    private long _chunkBytes;
    private ChunkAppender? _head;
    private long[]? _lateTimestamps;
    private double[]? _lateValues;
    private int _lateStart;
    private int _lateCount;

    /// <summary>The key as UTF-8 bytes.</summary>
    public byte[] Key { get; } = key;

    public bool IsEmpty => _head is null;

    /// <summary>The newest timestamp stored (meaningless when <see cref="IsEmpty"/>).</summary>
    public long Newest => _head?.Last ?? 0;

    /// <summary>The bytes this series is accounted for in the store's memory total.</summary>
    public long Footprint =>
        SeriesOverhead + Key.Length + ((long)_chunks.Length * 32) + _chunkBytes + (_chunkCount * 24L)
        + (_head?.Capacity ?? 0) + (_lateTimestamps is null ? 0 : 48 + (_lateTimestamps.Length * 16L));

    /// <summary>The closed chunks (the head and the late buffer not included).</summary>
    public ReadOnlySpan<MetricChunk> Chunks => _chunks.AsSpan(0, _chunkCount);

    // The log's per-segment coding state of this series; only MetricLog touches these.
    internal int LogEpoch = -1;
    internal int LogId;
    internal long LogTimestamp;
    internal ulong LogValueBits;

    /// <summary>Stores a point, replacing the value of an equal timestamp.</summary>
    /// <param name="timestamp">The point's timestamp.</param>
    /// <param name="value">The point's value.</param>
    /// <param name="retention">Drop closed chunks older than the newest point minus this many seconds; 0 keeps everything.</param>
    public void Set(long timestamp, double value, long retention = 0)
    {
        if (_head is null)
        {
            _head = new ChunkAppender(decimalValues);
            _head.Append(timestamp, value);
            return;
        }

        long last = _head.Last;
        if (timestamp > last)
        {
            if (_head.Count >= ChunkPoints || _head.ByteLength >= ChunkBytes)
            {
                AddClosed(_head.ToChunk());
                _head.Reset();
            }

            _head.Append(timestamp, value);
            if (retention > 0)
            {
                DropOlderThan(RetentionHorizon(retention));
            }
        }
        else if (timestamp == last)
        {
            _head.ReplaceLast(value);
        }
        else
        {
            SetLate(timestamp, value);
        }
    }

    /// <summary>The oldest timestamp retention keeps: the newest point minus <paramref name="retention"/> seconds.</summary>
    public long RetentionHorizon(long retention)
    {
        long newest = Newest;
        return newest < long.MinValue + retention ? long.MinValue : newest - retention;
    }

    /// <summary>Drops the closed chunks whose every point is older than <paramref name="horizon"/>; returns how many points went.</summary>
    public long DropOlderThan(long horizon)
    {
        int drop = 0;
        long points = 0;
        while (drop < _chunkCount && _chunks[drop].Last < horizon)
        {
            points += _chunks[drop].Count;
            _chunkBytes -= _chunks[drop].Length;
            drop++;
        }

        if (drop > 0)
        {
            _chunks.AsSpan(drop, _chunkCount - drop).CopyTo(_chunks);
            _chunks.AsSpan(_chunkCount - drop, drop).Clear();
            _chunkCount -= drop;
            ShrinkChunkArray();
        }

        return points;
    }

    /// <summary>The exact number of points (decodes the chunks that late points overlap, if any).</summary>
    public long CountPoints()
    {
        long count = _head?.Count ?? 0;
        foreach (MetricChunk chunk in Chunks)
        {
            count += chunk.Count;
        }

        if (_lateCount == 0)
        {
            return count;
        }

        // A late point is new unless its timestamp is already in the chunk whose range holds it.
        using var decoded = new DecodedPoints();
        int decodedChunk = -2;
        for (int i = 0; i < _lateCount; i++)
        {
            long timestamp = LateTimes[i];
            int chunk = FindChunkHolding(timestamp);
            if (chunk == -1)
            {
                count++;
                continue;
            }

            if (chunk != decodedChunk)
            {
                decoded.Load(chunk == _chunkCount ? _head!.View() : _chunks[chunk]);
                decodedChunk = chunk;
            }

            if (decoded.Timestamps.BinarySearch(timestamp) < 0)
            {
                count++;
            }
        }

        return count;
    }

    /// <summary>Merges the late buffer into the chunks now (before a snapshot, after recovery).</summary>
    public void FlushLate() => FlushLate(keepBuffer: false);

    /// <summary>Merges the late buffer; <paramref name="keepBuffer"/> keeps its arrays for a backfill still under way.</summary>
    private void FlushLate(bool keepBuffer)
    {
        if (_lateCount == 0)
        {
            return;
        }

        ReadOnlySpan<long> lateTimes = LateTimes;
        ReadOnlySpan<double> lateValues = LateValues;
        MetricChunk headChunk = _head!.View();

        // Only the chunks from the one before the first late point on are looked at (that one may
        // take a gap's points); the walk stops once every late point has found its place.
        int first = FirstChunkEndingAtOrAfter(lateTimes[0]);
        int start = Math.Max(0, first - 1);
        var output = new List<MetricChunk>();
        int late = 0;
        int c = start;
        bool headChanged = false;
        for (; c <= _chunkCount && late < lateTimes.Length; c++)
        {
            MetricChunk chunk = c < _chunkCount ? _chunks[c] : headChunk;
            int gapStart = late;
            while (late < lateTimes.Length && lateTimes[late] < chunk.First)
            {
                late++;
            }

            int gapEnd = late;
            while (late < lateTimes.Length && lateTimes[late] <= chunk.Last)
            {
                late++;
            }

            int gap = gapEnd - gapStart;
            int inside = late - gapEnd;
            if (gap == 0 && inside == 0)
            {
                output.Add(chunk);
                continue;
            }

            headChanged |= c == _chunkCount && (inside > 0 || chunk.Count + gap <= ChunkPoints);
            if (gap > 0 && chunk.Count + gap + inside <= ChunkPoints)
            {
                // The gap's points fit into this chunk: one rewrite instead of a small new chunk.
                MergeInto(output, chunk, lateTimes[gapStart..late], lateValues[gapStart..late]);
                continue;
            }

            if (gap > 0)
            {
                if (output.Count > 0 && output[^1].Count + gap <= ChunkPoints)
                {
                    MetricChunk previous = output[^1];
                    output.RemoveAt(output.Count - 1);
                    MergeInto(output, previous, lateTimes[gapStart..gapEnd], lateValues[gapStart..gapEnd]);
                }
                else
                {
                    EncodeInto(output, lateTimes[gapStart..gapEnd], lateValues[gapStart..gapEnd]);
                }
            }

            if (inside > 0)
            {
                MergeInto(output, chunk, lateTimes[gapEnd..late], lateValues[gapEnd..late]);
            }
            else
            {
                output.Add(chunk);
            }
        }

        if (late != lateTimes.Length)
        {
            throw new InvalidOperationException("A late point was later than the newest point.");
        }

        _lateCount = 0;
        _lateStart = _lateTimestamps!.Length / 2;
        if (!keepBuffer && _lateTimestamps.Length > 64)
        {
            // A series that took one backfill should not keep its largest buffer for ever: the
            // next snapshot lets it go.
            _lateTimestamps = null;
            _lateValues = null;
            _lateStart = 0;
        }

        // When the walk reached the head, the output's last chunk is the new head; the open
        // appender stays when nothing touched it.
        if (c > _chunkCount)
        {
            if (headChanged)
            {
                _head = ChunkAppender.Resume(output[^1], decimalValues);
            }

            output.RemoveAt(output.Count - 1);
            c = _chunkCount;
        }

        Splice(start, c, output);
    }

    /// <summary>Replaces the closed chunks [<paramref name="from"/>, <paramref name="to"/>) by <paramref name="replacement"/>.</summary>
    private void Splice(int from, int to, List<MetricChunk> replacement)
    {
        for (int i = from; i < to; i++)
        {
            _chunkBytes -= _chunks[i].Length;
        }

        foreach (MetricChunk chunk in replacement)
        {
            _chunkBytes += chunk.Length;
        }

        int count = _chunkCount - (to - from) + replacement.Count;
        if (count > _chunks.Length)
        {
            Array.Resize(ref _chunks, Math.Max(count, Math.Max(4, _chunks.Length * 2)));
        }

        Array.Copy(_chunks, to, _chunks, from + replacement.Count, _chunkCount - to);
        replacement.CopyTo(_chunks, from);
        if (count < _chunkCount)
        {
            Array.Clear(_chunks, count, _chunkCount - count);
        }

        _chunkCount = count;
    }

    /// <summary>The index of the first closed chunk whose last point is at or after <paramref name="timestamp"/>; <c>_chunkCount</c> (the head) if none.</summary>
    private int FirstChunkEndingAtOrAfter(long timestamp)
    {
        int low = 0;
        int high = _chunkCount;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_chunks[middle].Last < timestamp)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low;
    }

    /// <summary>
    /// Every point, the late buffer merged in, as closed chunks with the head last; the head's bytes
    /// are copied into <paramref name="headCopy"/> (grown if needed, reused across series).
    /// </summary>
    public void CopyChunks(List<MetricChunk> into, ref byte[] headCopy)
    {
        FlushLate();
        foreach (MetricChunk chunk in Chunks)
        {
            into.Add(chunk);
        }

        if (_head is not null)
        {
            MetricChunk head = _head.View();
            if (headCopy.Length < head.Length)
            {
                headCopy = new byte[Math.Max(head.Length, 2 * headCopy.Length)];
            }

            head.Bytes.CopyTo(headCopy);
            into.Add(head with { Data = headCopy });
        }
    }

    /// <summary>Adds a chunk read from a snapshot; they come in time order, and <see cref="FinishLoad"/> follows the last.</summary>
    /// <exception cref="InvalidDataException">The chunk is not after the ones before it.</exception>
    public void AddLoaded(MetricChunk chunk)
    {
        if (_head is not null || chunk.Count < 1 || chunk.First > chunk.Last || (_chunkCount > 0 && chunk.First <= _chunks[_chunkCount - 1].Last))
        {
            throw new InvalidDataException("A metrics snapshot holds chunks out of order.");
        }

        AddClosed(chunk);
    }

    /// <summary>Reopens the last loaded chunk as the head, so new points continue it.</summary>
    public void FinishLoad()
    {
        if (_head is not null || _chunkCount == 0)
        {
            return;
        }

        MetricChunk last = _chunks[--_chunkCount];
        _chunks[_chunkCount] = default;
        _chunkBytes -= last.Length;
        _head = ChunkAppender.Resume(last, decimalValues);
    }

    /// <summary>
    /// Copies the next run of points after <paramref name="run"/>'s cursor: references to a few
    /// closed chunks (immutable, so they can be decoded without the lock), or a copy of the head,
    /// and the late points in the same range. Bounded, whatever the size of the series.
    /// </summary>
    public void CopyRun(SeriesRun run)
    {
        run.ClearRun();
        int start = 0;
        if (run.Started)
        {
            // The first chunk holding anything after the cursor.
            int low = 0;
            int high = _chunkCount;
            while (low < high)
            {
                int middle = (low + high) >>> 1;
                if (_chunks[middle].Last <= run.After)
                {
                    low = middle + 1;
                }
                else
                {
                    high = middle;
                }
            }

            start = low;
        }

        int end = Math.Min(_chunkCount, start + SeriesRun.MaxChunks);
        for (int c = start; c < end; c++)
        {
            run.AddChunk(_chunks[c]);
        }

        bool toEnd = end == _chunkCount;
        long runEnd = toEnd ? long.MaxValue : _chunks[end - 1].Last;
        if (toEnd && _head is not null)
        {
            run.SetHead(_head.Bytes, _head.Count);
        }

        ReadOnlySpan<long> lateTimes = LateTimes;
        ReadOnlySpan<double> lateValues = LateValues;
        for (int i = LateIndexAfter(run); i < lateTimes.Length && lateTimes[i] <= runEnd; i++)
        {
            run.AddLate(lateTimes[i], lateValues[i]);
        }

        run.EndRun(runEnd, toEnd);
    }

    private int LateIndexAfter(SeriesRun run)
    {
        if (_lateCount == 0 || !run.Started)
        {
            return 0;
        }

        int index = LateTimes.BinarySearch(run.After);
        return index >= 0 ? index + 1 : ~index;
    }

    private Span<long> LateTimes => _lateTimestamps.AsSpan(_lateStart, _lateCount);

    private Span<double> LateValues => _lateValues.AsSpan(_lateStart, _lateCount);

    /// <summary>
    /// Puts a late point into the sorted buffer. The buffer has room on both sides of its points,
    /// and an insert moves the shorter side: a backfill, which always inserts first, moves nothing.
    /// </summary>
    private void SetLate(long timestamp, double value)
    {
        if (_lateTimestamps is null)
        {
            _lateTimestamps = new long[32];
            _lateValues = new double[32];
            _lateStart = 16;
        }

        // Backfills put ever earlier points: check the ends before searching.
        Span<long> lateTimes = LateTimes;
        int index = lateTimes.Length == 0 || timestamp < lateTimes[0] ? ~0
            : timestamp > lateTimes[^1] ? ~lateTimes.Length
            : lateTimes.BinarySearch(timestamp);
        if (index >= 0)
        {
            _lateValues![_lateStart + index] = value;
            return;
        }

        if (_lateCount == LateCapacity)
        {
            FlushLate(keepBuffer: true);
            SetLate(timestamp, value);
            return;
        }

        index = ~index;
        bool moveFront = index < _lateCount - index;
        if ((moveFront && _lateStart == 0) || (!moveFront && _lateStart + _lateCount == _lateTimestamps.Length))
        {
            Recenter();
        }

        long[] times = _lateTimestamps;
        double[] values = _lateValues!;
        if (moveFront)
        {
            Array.Copy(times, _lateStart, times, _lateStart - 1, index);
            Array.Copy(values, _lateStart, values, _lateStart - 1, index);
            _lateStart--;
        }
        else
        {
            Array.Copy(times, _lateStart + index, times, _lateStart + index + 1, _lateCount - index);
            Array.Copy(values, _lateStart + index, values, _lateStart + index + 1, _lateCount - index);
        }

        times[_lateStart + index] = timestamp;
        values[_lateStart + index] = value;
        _lateCount++;
    }

    /// <summary>Moves the late points to the middle of their arrays, growing them when half full.</summary>
    private void Recenter()
    {
        int length = Math.Max(_lateTimestamps!.Length, 2 * (_lateCount + 1));
        long[] times = length == _lateTimestamps.Length ? _lateTimestamps : new long[length];
        double[] values = length == _lateTimestamps.Length ? _lateValues! : new double[length];
        int start = (length - _lateCount) / 2;
        Array.Copy(_lateTimestamps, _lateStart, times, start, _lateCount);
        Array.Copy(_lateValues!, _lateStart, values, start, _lateCount);
        _lateTimestamps = times;
        _lateValues = values;
        _lateStart = start;
    }

    /// <summary>The chunk whose range holds <paramref name="timestamp"/>: a closed chunk's index, <c>_chunkCount</c> for the head, or -1.</summary>
    private int FindChunkHolding(long timestamp)
    {
        if (_head is not null && timestamp >= _head.First)
        {
            return timestamp <= _head.Last ? _chunkCount : -1;
        }

        int low = 0;
        int high = _chunkCount;
        while (low < high)
        {
            int middle = (low + high) >>> 1;
            if (_chunks[middle].Last < timestamp)
            {
                low = middle + 1;
            }
            else
            {
                high = middle;
            }
        }

        return low < _chunkCount && _chunks[low].First <= timestamp ? low : -1;
    }

    private void AddClosed(MetricChunk chunk)
    {
        if (_chunkCount == _chunks.Length)
        {
            Array.Resize(ref _chunks, Math.Max(4, _chunks.Length * 2));
        }

        _chunks[_chunkCount++] = chunk;
        _chunkBytes += chunk.Length;
    }

    private void ShrinkChunkArray()
    {
        if (_chunks.Length > 16 && _chunkCount < _chunks.Length / 4)
        {
            Array.Resize(ref _chunks, _chunks.Length / 2);
        }
    }

    /// <summary>Decodes <paramref name="chunk"/>, merges the late points in (they win on equal timestamps), and encodes the result.</summary>
    private void MergeInto(List<MetricChunk> output, MetricChunk chunk, ReadOnlySpan<long> lateTimes, ReadOnlySpan<double> lateValues)
    {
        using var merged = new DecodedPoints();
        merged.Merge(chunk, lateTimes, lateValues);
        EncodeInto(output, merged.Timestamps, merged.Values);
    }

    /// <summary>Encodes sorted points into as few chunks as <see cref="ChunkPoints"/> allows, of even sizes.</summary>
    private void EncodeInto(List<MetricChunk> output, ReadOnlySpan<long> timestamps, ReadOnlySpan<double> values)
    {
        int chunks = (timestamps.Length + ChunkPoints - 1) / ChunkPoints;
        int start = 0;
        for (int c = 0; c < chunks; c++)
        {
            int end = (int)((long)timestamps.Length * (c + 1) / chunks);
            var appender = new ChunkAppender(decimalValues, 16 + ((end - start) * 4));
            for (int i = start; i < end; i++)
            {
                appender.Append(timestamps[i], values[i]);
            }

            output.Add(appender.ToChunk());
            start = end;
        }
    }

    /// <summary>Points decoded from a chunk into pooled arrays.</summary>
    private sealed class DecodedPoints : IDisposable
    {
        private long[] _timestamps = ArrayPool<long>.Shared.Rent(ChunkPoints + LateCapacity);
        private double[] _values = ArrayPool<double>.Shared.Rent(ChunkPoints + LateCapacity);
        private int _count;

        public ReadOnlySpan<long> Timestamps => _timestamps.AsSpan(0, _count);

        public ReadOnlySpan<double> Values => _values.AsSpan(0, _count);

        public void Load(MetricChunk chunk) => Merge(chunk, [], []);

        public void Merge(MetricChunk chunk, ReadOnlySpan<long> lateTimes, ReadOnlySpan<double> lateValues)
        {
            _count = 0;
            Reserve(chunk.Count + lateTimes.Length);
            ChunkReader reader = chunk.GetReader();
            int late = 0;
            while (reader.TryRead(out long timestamp, out double value))
            {
                while (late < lateTimes.Length && lateTimes[late] < timestamp)
                {
                    Add(lateTimes[late], lateValues[late]);
                    late++;
                }

                if (late < lateTimes.Length && lateTimes[late] == timestamp)
                {
                    Add(timestamp, lateValues[late]);
                    late++;
                }
                else
                {
                    Add(timestamp, value);
                }
            }

            for (; late < lateTimes.Length; late++)
            {
                Add(lateTimes[late], lateValues[late]);
            }
        }

        public void Dispose()
        {
            ArrayPool<long>.Shared.Return(_timestamps);
            ArrayPool<double>.Shared.Return(_values);
        }

        private void Add(long timestamp, double value)
        {
            _timestamps[_count] = timestamp;
            _values[_count] = value;
            _count++;
        }

        private void Reserve(int count)
        {
            if (_timestamps.Length < count)
            {
                ArrayPool<long>.Shared.Return(_timestamps);
                ArrayPool<double>.Shared.Return(_values);
                _timestamps = ArrayPool<long>.Shared.Rent(count);
                _values = ArrayPool<double>.Shared.Rent(count);
            }
        }
    }
}
