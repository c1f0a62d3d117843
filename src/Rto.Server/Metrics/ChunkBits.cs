using System.Buffers.Binary;
using System.Numerics;
using System.Runtime.CompilerServices;

namespace Rto.Server.Metrics;

/// <summary>
/// Writes bits most-significant first into a growable array, at a position the caller keeps (so
/// a chunk can be rewound to the point before its last one). Bits past the position are zero.
/// </summary>
internal static class BitWriter
{
    /// <summary>Room kept past the last written bit so a write of up to 64 bits is two 8-byte stores at most.</summary>
    public const int Slack = 9;

    /// <summary>Writes the low <paramref name="count"/> bits (1 to 64) of <paramref name="value"/> at <paramref name="position"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Write(ref byte[] buffer, ref int position, ulong value, int count)
    {
        int index = position >> 3;
        if (index + Slack > buffer.Length)
        {
            Grow(ref buffer, index + Slack);
        }

        int offset = position & 7;
        ulong aligned = value << (64 - count);
        Span<byte> at = buffer.AsSpan(index);
        BinaryPrimitives.WriteUInt64BigEndian(at, BinaryPrimitives.ReadUInt64BigEndian(at) | (aligned >> offset));
        if (offset + count > 64)
        {
            at[8] |= (byte)((aligned << (64 - offset)) >> 56);
        }

        position += count;
    }

    /// <summary>Zeroes every bit from <paramref name="position"/> to <paramref name="end"/>, so they can be written again.</summary>
    public static void Clear(byte[] buffer, int position, int end)
    {
        int index = position >> 3;
        int offset = position & 7;
        int last = Math.Min(buffer.Length, (end + 7) >> 3);
        if (index >= last)
        {
            return;
        }

        buffer[index] &= (byte)(0xFF00 >> offset);
        buffer.AsSpan(index + 1, last - index - 1).Clear();
    }

    /// <summary>The bytes that hold <paramref name="bits"/> bits.</summary>
    public static int ByteLength(int bits) => (bits + 7) >> 3;

    private static void Grow(ref byte[] buffer, int needed)
    {
        // Small steps: a head chunk holds its spare room for as long as it is open, in every series.
        int size = Math.Max(needed, buffer.Length + Math.Max(64, buffer.Length >> 3));
        Array.Resize(ref buffer, size);
    }
}

/// <summary>Reads bits most-significant first; reading past the end yields zeros.</summary>
internal ref struct BitReader(ReadOnlySpan<byte> data)
{
    private readonly ReadOnlySpan<byte> _data = data;

    public int Position;

    /// <summary>The next 64 bits without consuming them (zero-padded at the end).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public readonly ulong Peek64()
    {
        int index = Position >> 3;
        int offset = Position & 7;
        ulong word;
        ulong next;
        if (index + 9 <= _data.Length)
        {
            word = BinaryPrimitives.ReadUInt64BigEndian(_data[index..]);
            next = _data[index + 8];
        }
        else
        {
            word = SlowWord(index);
            next = index + 8 < _data.Length ? _data[index + 8] : 0UL;
        }

        return offset == 0 ? word : (word << offset) | (next >> (8 - offset));
    }

    /// <summary>Reads <paramref name="count"/> bits (1 to 64) as an unsigned number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public ulong Read(int count)
    {
        ulong value = Peek64() >> (64 - count);
        Position += count;
        return value;
    }

    /// <summary>Reads <paramref name="count"/> bits as a two's-complement signed number.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public long ReadSigned(int count)
    {
        long value = (long)Peek64() >> (64 - count);
        Position += count;
        return value;
    }

    /// <summary>Counts (and consumes) leading one bits up to <paramref name="max"/>, plus the zero that ends them when fewer.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public int ReadPrefix(int max)
    {
        int ones = Math.Min(BitOperations.LeadingZeroCount(~Peek64()), max);
        Position += ones < max ? ones + 1 : max;
        return ones;
    }

    private readonly ulong SlowWord(int index)
    {
        ulong word = 0;
        for (int i = 0; i < 8; i++)
        {
            word = (word << 8) | (index + i < _data.Length ? _data[index + i] : 0UL);
        }

        return word;
    }
}
