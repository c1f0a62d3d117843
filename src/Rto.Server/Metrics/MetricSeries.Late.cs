using System.Buffers;

namespace Rto.Server.Metrics;

/// <summary>
/// The late buffer of a series: points older than its newest one, kept sorted and merged into the
/// chunks a chunk's worth at a time.
/// </summary>
internal sealed partial class MetricSeries
{
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
