using System.Buffers;

namespace Rto.Benchmarks.Metrics;

/// <summary>
/// An <see cref="IBufferWriter{T}"/> that acts like a socket draining instantly: it writes
/// sequentially through one reused 64 KB array (wrapping around) and only counts the bytes, so
/// a get of a million points measures formatting rather than growing a 30 MB buffer.
/// </summary>
internal sealed class SinkBufferWriter : IBufferWriter<byte>
{
    private byte[] _buffer = new byte[64 * 1024];
    private int _position;

    /// <summary>Bytes written since the last <see cref="Reset"/>.</summary>
    public long Written { get; private set; }

    public void Reset()
    {
        _position = 0;
        Written = 0;
    }

    public void Advance(int count)
    {
        _position += count;
        Written += count;
    }

    public Memory<byte> GetMemory(int sizeHint = 0) => _buffer.AsMemory(Reserve(sizeHint));

    public Span<byte> GetSpan(int sizeHint = 0) => _buffer.AsSpan(Reserve(sizeHint));

    private int Reserve(int sizeHint)
    {
        sizeHint = Math.Max(sizeHint, 1);
        if (sizeHint > _buffer.Length)
        {
            _buffer = new byte[sizeHint];
            _position = 0;
        }
        else if (_buffer.Length - _position < sizeHint)
        {
            _position = 0;
        }

        return _position;
    }
}
