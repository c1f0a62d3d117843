using System.Buffers;
using Rto.Protocols.Metrics;

namespace Rto.Server.Metrics;

/// <summary>
/// One connection's reading position in a series and a bounded copy of the next points to send:
/// <see cref="MetricSeries.CopyRun"/> fills it under the series lock, <see cref="WriteTo"/> decodes
/// and formats it without the lock, so a slow socket never holds up a put to that series.
/// </summary>
/// <remarks>
/// A reply streamed in runs shows every point that existed when the <c>get</c> started (as it was
/// when its run was copied), and possibly points added later; each timestamp once, in order.
/// </remarks>
internal sealed class SeriesRun
{
    /// <summary>Closed chunks per run: at most 8 × 512 points, about 200 KB of reply.</summary>
    public const int MaxChunks = 8;

    private readonly MetricChunk[] _chunks = new MetricChunk[MaxChunks];
    private int _chunkCount;
    private byte[] _head = [];
    private int _headLength;
    private int _headCount;
    private long[] _lateTimestamps = [];
    private double[] _lateValues = [];
    private int _lateCount;
    private long _runEnd;
    private bool _runReachesEnd;

    /// <summary>The series being read.</summary>
    public MetricSeries? Series { get; private set; }

    /// <summary>Whether any run of the current series was written yet.</summary>
    public bool Started { get; private set; }

    /// <summary>Points up to this timestamp were written (once <see cref="Started"/>).</summary>
    public long After { get; private set; }

    /// <summary>True once the last run of the series has been written.</summary>
    public bool Done { get; private set; }

    /// <summary>Starts reading <paramref name="series"/> from its oldest point.</summary>
    public void Start(MetricSeries series)
    {
        Series = series;
        Started = false;
        Done = false;
        After = 0;
        ClearRun();
    }

    /// <summary>Copies the next run under the series lock, then decodes and writes it without the lock.</summary>
    public void WriteNext(IBufferWriter<byte> output)
    {
        MetricSeries series = CopyNext();
        var sink = new ReplySink(series.Key, output);
        Drain(ref sink);
    }

    /// <summary>As <see cref="WriteNext"/>, but collects the points themselves (bit-exact values).</summary>
    internal void ReadNext(List<(long Timestamp, double Value)> points)
    {
        CopyNext();
        var sink = new ListSink(points);
        Drain(ref sink);
    }

    private MetricSeries CopyNext()
    {
        MetricSeries series = Series ?? throw new InvalidOperationException("No series started.");
        lock (series)
        {
            series.CopyRun(this);
        }

        return series;
    }

    /// <summary>Decodes the copied run, late points merged in, into <paramref name="sink"/>; advances the cursor.</summary>
    private void Drain<TSink>(ref TSink sink)
        where TSink : struct, IPointSink
    {
        int late = 0;
        for (int c = 0; c < _chunkCount; c++)
        {
            ChunkReader reader = _chunks[c].GetReader();
            late = DrainMerged(ref reader, ref sink, late);
        }

        if (_headCount > 0)
        {
            var reader = new ChunkReader(_head.AsSpan(0, _headLength), _headCount);
            late = DrainMerged(ref reader, ref sink, late);
        }

        for (; late < _lateCount; late++)
        {
            sink.Add(_lateTimestamps[late], _lateValues[late]);
        }

        Started = true;
        After = _runEnd;
        Done = _runReachesEnd;
        ClearRun();
        if (Done)
        {
            Series = null;
        }
    }

    internal void ClearRun()
    {
        Array.Clear(_chunks, 0, _chunkCount);
        _chunkCount = 0;
        _headCount = 0;
        _headLength = 0;
        _lateCount = 0;
    }

    internal void AddChunk(MetricChunk chunk) => _chunks[_chunkCount++] = chunk;

    internal void SetHead(ReadOnlySpan<byte> bytes, int count)
    {
        if (_head.Length < bytes.Length)
        {
            _head = new byte[Math.Max(bytes.Length, 256)];
        }

        bytes.CopyTo(_head);
        _headLength = bytes.Length;
        _headCount = count;
    }

    internal void AddLate(long timestamp, double value)
    {
        if (_lateCount == _lateTimestamps.Length)
        {
            int size = Math.Max(16, _lateCount * 2);
            Array.Resize(ref _lateTimestamps, size);
            Array.Resize(ref _lateValues, size);
        }

        _lateTimestamps[_lateCount] = timestamp;
        _lateValues[_lateCount] = value;
        _lateCount++;
    }

    internal void EndRun(long runEnd, bool reachesEnd)
    {
        _runEnd = runEnd;
        _runReachesEnd = reachesEnd;
    }

    private int DrainMerged<TSink>(ref ChunkReader reader, ref TSink sink, int late)
        where TSink : struct, IPointSink
    {
        while (reader.TryRead(out long timestamp, out double value))
        {
            if (Started && timestamp <= After)
            {
                continue;
            }

            while (late < _lateCount && _lateTimestamps[late] < timestamp)
            {
                sink.Add(_lateTimestamps[late], _lateValues[late]);
                late++;
            }

            if (late < _lateCount && _lateTimestamps[late] == timestamp)
            {
                value = _lateValues[late];
                late++;
            }

            sink.Add(timestamp, value);
        }

        return late;
    }

    private interface IPointSink
    {
        void Add(long timestamp, double value);
    }

    private readonly struct ReplySink(byte[] key, IBufferWriter<byte> output) : IPointSink
    {
        public void Add(long timestamp, double value) => MetricsResponseWriter.WritePoint(output, key, value, timestamp);
    }

    private readonly struct ListSink(List<(long Timestamp, double Value)> points) : IPointSink
    {
        public void Add(long timestamp, double value) => points.Add((timestamp, value));
    }
}
