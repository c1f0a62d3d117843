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
internal sealed partial class MetricSeries(byte[] key, bool decimalValues = true)
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

    /// <summary>The chunk whose range holds <paramref name="timestamp"/>: a closed chunk's index, <c>_chunkCount</c> for the head, or -1.</summary>
    private int FindChunkHolding(long timestamp)
    {
        if (_head is not null && timestamp >= _head.First)
        {
            return timestamp <= _head.Last ? _chunkCount : -1;
        }

        int low = FirstChunkEndingAtOrAfter(timestamp);
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
}
