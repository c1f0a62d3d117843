namespace Rto.Server.Metrics;

/// <summary>
/// A closed run of points of one series, encoded with <see cref="ChunkCodec"/>: ascending unique
/// timestamps from <see cref="First"/> to <see cref="Last"/>, in the first <see cref="Length"/> bytes
/// of <see cref="Data"/>. Its bytes never change once made, so a reader may keep decoding it after
/// letting go of the series lock.
/// </summary>
internal readonly record struct MetricChunk(byte[] Data, int Length, int Count, long First, long Last)
{
    public ReadOnlySpan<byte> Bytes => Data.AsSpan(0, Length);

    public ChunkReader GetReader() => new(Bytes, Count);
}

/// <summary>Decodes the points of a chunk in order.</summary>
internal ref struct ChunkReader(ReadOnlySpan<byte> data, int count)
{
    private BitReader _bits = new(data);
    private ChunkState _state;

    public readonly int Remaining => count - _state.Count;

    /// <summary>The decoding state after the points read so far.</summary>
    public readonly ChunkState State => _state;

    public bool TryRead(out long timestamp, out double value)
    {
        if (_state.Count == count)
        {
            timestamp = 0;
            value = 0;
            return false;
        }

        ChunkCodec.Read(ref _bits, ref _state, out timestamp, out value);
        return true;
    }
}

/// <summary>
/// The open chunk at the end of a series: points are encoded as they arrive, and the last one can
/// be rewritten in place (a put that replaces the newest point's value costs one point's coding).
/// </summary>
internal sealed class ChunkAppender
{
    private byte[] _buffer;
    private ChunkState _state;
    private ChunkState _beforeLast;
    private readonly bool _decimalValues;

    public ChunkAppender(bool decimalValues, int capacity = 32)
    {
        _decimalValues = decimalValues;
        _buffer = new byte[capacity];
    }

    public int Count => _state.Count;

    public long First { get; private set; }

    public long Last => _state.Timestamp;

    public double LastValue => BitConverter.Int64BitsToDouble((long)_state.ValueBits);

    /// <summary>Bytes held, including room to grow.</summary>
    public int Capacity => _buffer.Length;

    public int ByteLength => BitWriter.ByteLength(_state.Position);

    /// <summary>The encoded bytes so far (valid until the next change).</summary>
    public ReadOnlySpan<byte> Bytes => _buffer.AsSpan(0, ByteLength);

    /// <summary>Appends a point; <paramref name="timestamp"/> must be later than <see cref="Last"/>.</summary>
    public void Append(long timestamp, double value)
    {
        _beforeLast = _state;
        ChunkCodec.Append(ref _buffer, ref _state, timestamp, value, _decimalValues);
        if (_state.Count == 1)
        {
            First = timestamp;
        }
    }

    /// <summary>Replaces the value of the last point.</summary>
    public void ReplaceLast(double value)
    {
        long timestamp = _state.Timestamp;
        int end = _state.Position;
        _state = _beforeLast;
        BitWriter.Clear(_buffer, _state.Position, end);
        ChunkCodec.Append(ref _buffer, ref _state, timestamp, value, _decimalValues);
    }

    /// <summary>The points so far as a closed chunk of exactly their size.</summary>
    public MetricChunk ToChunk()
    {
        byte[] data = Bytes.ToArray();
        return new(data, data.Length, Count, First, Last);
    }

    /// <summary>The points so far as a chunk over this appender's own buffer: valid only until the next change.</summary>
    public MetricChunk View() => new(_buffer, ByteLength, Count, First, Last);

    /// <summary>Starts a new chunk in the same buffer: a series keeps its head's room from chunk to chunk, so steady appends allocate nothing.</summary>
    public void Reset()
    {
        _buffer.AsSpan(0, ByteLength).Clear();
        _state = default;
        _beforeLast = default;
        First = 0;
    }

    /// <summary>An appender that continues <paramref name="chunk"/>: decodes it once to recover the coding state.</summary>
    public static ChunkAppender Resume(MetricChunk chunk, bool decimalValues)
    {
        var appender = new ChunkAppender(decimalValues, chunk.Length + BitWriter.Slack);
        chunk.Bytes.CopyTo(appender._buffer);
        ChunkReader reader = chunk.GetReader();
        while (reader.Remaining > 0)
        {
            appender._beforeLast = reader.State;
            reader.TryRead(out _, out _);
        }

        appender._state = reader.State;
        appender.First = chunk.First;
        if (appender._state.Timestamp != chunk.Last || appender._state.Count != chunk.Count)
        {
            throw new InvalidDataException("A metrics chunk does not decode to its recorded range.");
        }

        return appender;
    }
}
