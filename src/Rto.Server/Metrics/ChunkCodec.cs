using System.Numerics;
using System.Runtime.CompilerServices;

namespace Rto.Server.Metrics;

/// <summary>Where encoding or decoding of one chunk stands: what the next point is coded against.</summary>
internal struct ChunkState
{
    /// <summary>Bits written or read so far.</summary>
    public int Position;

    public int Count;

    public long Timestamp;

    public long Delta;

    public ulong ValueBits;

    /// <summary>In decimal mode, the last decimally coded value times 10^<see cref="Scale"/>.</summary>
    public long Mantissa;

    /// <summary>In decimal mode, the difference between the last two decimally coded mantissas.</summary>
    public long MantissaDelta;

    /// <summary>The decimal scale, or <see cref="ChunkCodec.XorMode"/>.</summary>
    public byte Scale;

    /// <summary>The XOR window of the last XOR-coded value; <see cref="Leading"/> 0xFF when there is none yet.</summary>
    public byte Leading;

    public byte Trailing;
}

/// <summary>
/// The chunk encoding: Gorilla's (Pelkonen et al., VLDB 2015) delta-of-delta timestamps, and for
/// values either Gorilla's XOR coding or, when the values are short decimals as sensors send them,
/// the difference of their decimal mantissas (the idea of VictoriaMetrics' and ALP's decimal
/// coding), which stays exact because a value is coded that way only when it reads back bit for bit.
/// </summary>
/// <remarks>
/// Layout, most significant bit first: a format byte (version in the top 3 bits, then the decimal
/// scale 0..22, or 31 for XOR mode), the first timestamp (64 bits) and the first value's bits
/// (64 bits). Each later point is a timestamp code then a value code:
/// <list type="bullet">
/// <item>timestamp, d = delta-of-delta (wrapping 64-bit arithmetic): <c>0</c> d = 0; <c>10</c>+7 bits;
/// <c>110</c>+9; <c>1110</c>+12; <c>11110</c>+32; <c>11111</c>+64 (two's complement).</item>
/// <item>value, XOR mode: <c>0</c> same bits; <c>1</c> then an XOR code.</item>
/// <item>value, decimal mode, d = delta-of-delta of the mantissas (a steady slope, a counter and a
/// constant cost one bit): <c>0</c> d = 0; <c>10</c>+4 bits; <c>110</c>+12; <c>1110</c>+24; <c>11110</c>+56;
/// <c>111110</c>+5 bits: a larger scale, then a d code; <c>1111110</c>: the previous value's bits
/// again; <c>1111111</c> then an XOR code, for a value with no short decimal form.</item>
/// <item>XOR code (value bits XOR previous bits, never 0): <c>0</c> the bits inside the previous window;
/// <c>1</c>+5 bits leading zeros (at most 31)+6 bits length−1, then the bits.</item>
/// </list>
/// </remarks>
internal static class ChunkCodec
{
    public const byte XorMode = 31;
    public const int MaxScale = 22;
    public const int Version = 1;

    /// <summary>Bits of the header: format byte, first timestamp, first value.</summary>
    public const int HeaderBits = 8 + 64 + 64;

    private const double MantissaLimit = 9007199254740992.0; // 2^53: every mantissa is exact as a double

    private static readonly double[] s_pow10 = [1e0, 1e1, 1e2, 1e3, 1e4, 1e5, 1e6, 1e7, 1e8, 1e9, 1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22];

    /// <summary>Appends one point; its timestamp must differ from the previous one's (order is up to the caller).</summary>
    public static void Append(ref byte[] buffer, ref ChunkState state, long timestamp, double value, bool decimalValues)
    {
        ulong bits = (ulong)BitConverter.DoubleToInt64Bits(value);
        if (state.Count == 0)
        {
            byte scale = XorMode;
            long mantissa = 0;
            if (decimalValues)
            {
                for (int s = 0; s <= MaxScale; s++)
                {
                    if (TryMantissa(value, bits, s, out mantissa))
                    {
                        scale = (byte)s;
                        break;
                    }
                }
            }

            BitWriter.Write(ref buffer, ref state.Position, (ulong)((Version << 5) | scale), 8);
            BitWriter.Write(ref buffer, ref state.Position, (ulong)timestamp, 64);
            BitWriter.Write(ref buffer, ref state.Position, bits, 64);
            state = state with { Count = 1, Timestamp = timestamp, Delta = 0, ValueBits = bits, Mantissa = scale == XorMode ? 0 : mantissa, MantissaDelta = 0, Scale = scale, Leading = 0xFF, Trailing = 0 };
            return;
        }

        long delta = unchecked(timestamp - state.Timestamp);
        WriteDeltaOfDelta(ref buffer, ref state.Position, unchecked(delta - state.Delta));
        state.Timestamp = timestamp;
        state.Delta = delta;
        state.Count++;

        if (state.Scale != XorMode)
        {
            WriteDecimal(ref buffer, ref state, value, bits);
        }
        else if (bits == state.ValueBits)
        {
            BitWriter.Write(ref buffer, ref state.Position, 0, 1);
        }
        else
        {
            BitWriter.Write(ref buffer, ref state.Position, 1, 1);
            WriteXor(ref buffer, ref state, bits);
        }

        state.ValueBits = bits;
    }

    /// <summary>Reads the next point into <paramref name="timestamp"/> and <paramref name="value"/>.</summary>
    public static void Read(ref BitReader reader, ref ChunkState state, out long timestamp, out double value)
    {
        if (state.Count == 0)
        {
            byte format = (byte)reader.Read(8);
            if (format >> 5 != Version)
            {
                throw new InvalidDataException($"Unknown metrics chunk format {format >> 5}.");
            }

            state.Scale = (byte)(format & 31);
            state.Timestamp = (long)reader.Read(64);
            state.ValueBits = reader.Read(64);
            state.Delta = 0;
            state.MantissaDelta = 0;
            state.Leading = 0xFF;
            state.Count = 1;
            if (state.Scale != XorMode)
            {
                if (state.Scale > MaxScale || !TryMantissa(BitConverter.Int64BitsToDouble((long)state.ValueBits), state.ValueBits, state.Scale, out state.Mantissa))
                {
                    throw new InvalidDataException("Metrics chunk with an inconsistent decimal header.");
                }
            }

            state.Position = reader.Position;
            timestamp = state.Timestamp;
            value = BitConverter.Int64BitsToDouble((long)state.ValueBits);
            return;
        }

        long deltaOfDelta = reader.ReadPrefix(5) switch
        {
            0 => 0,
            1 => reader.ReadSigned(7),
            2 => reader.ReadSigned(9),
            3 => reader.ReadSigned(12),
            4 => reader.ReadSigned(32),
            _ => (long)reader.Read(64),
        };
        state.Delta = unchecked(state.Delta + deltaOfDelta);
        state.Timestamp = unchecked(state.Timestamp + state.Delta);
        state.Count++;
        timestamp = state.Timestamp;

        if (state.Scale == XorMode)
        {
            if (reader.Read(1) != 0)
            {
                state.ValueBits = ReadXor(ref reader, ref state);
            }
        }
        else
        {
            ReadDecimal(ref reader, ref state);
        }

        state.Position = reader.Position;
        value = BitConverter.Int64BitsToDouble((long)state.ValueBits);
    }

    /// <summary>Whether <paramref name="value"/> is exactly <c>m / 10^scale</c> for an integer |m| &lt; 2^53.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static bool TryMantissa(double value, ulong bits, int scale, out long mantissa)
    {
        double power = s_pow10[scale];
        double rounded = Math.Round(value * power);
        mantissa = 0;
        if (!(Math.Abs(rounded) < MantissaLimit))
        {
            return false;
        }

        mantissa = (long)rounded;
        return (ulong)BitConverter.DoubleToInt64Bits(mantissa / power) == bits;
    }

    private static void WriteDeltaOfDelta(ref byte[] buffer, ref int position, long d)
    {
        if (d == 0)
        {
            BitWriter.Write(ref buffer, ref position, 0, 1);
        }
        else if (d is >= -64 and <= 63)
        {
            BitWriter.Write(ref buffer, ref position, (0b10UL << 7) | ((ulong)d & 0x7F), 9);
        }
        else if (d is >= -256 and <= 255)
        {
            BitWriter.Write(ref buffer, ref position, (0b110UL << 9) | ((ulong)d & 0x1FF), 12);
        }
        else if (d is >= -2048 and <= 2047)
        {
            BitWriter.Write(ref buffer, ref position, (0b1110UL << 12) | ((ulong)d & 0xFFF), 16);
        }
        else if (d is >= int.MinValue and <= int.MaxValue)
        {
            BitWriter.Write(ref buffer, ref position, (0b11110UL << 32) | ((ulong)d & 0xFFFF_FFFF), 37);
        }
        else
        {
            BitWriter.Write(ref buffer, ref position, 0b11111, 5);
            BitWriter.Write(ref buffer, ref position, (ulong)d, 64);
        }
    }

    private static void WriteDecimal(ref byte[] buffer, ref ChunkState state, double value, ulong bits)
    {
        if (TryMantissa(value, bits, state.Scale, out long mantissa))
        {
            WriteMantissa(ref buffer, ref state, mantissa);
            return;
        }

        if (bits == state.ValueBits)
        {
            BitWriter.Write(ref buffer, ref state.Position, 0b1111110, 7);
            return;
        }

        // A value with more decimals than the chunk had so far: raise the scale, if the previous
        // mantissa and slope still fit once multiplied.
        for (int scale = state.Scale + 1; scale <= MaxScale && scale - state.Scale <= 15; scale++)
        {
            long factor = (long)s_pow10[scale - state.Scale];
            if (Math.Abs(state.Mantissa) <= (1L << 53) / factor && Math.Abs(state.MantissaDelta) <= (1L << 54) / factor && TryMantissa(value, bits, scale, out mantissa))
            {
                BitWriter.Write(ref buffer, ref state.Position, (0b111110UL << 5) | (uint)scale, 11);
                state.Mantissa *= factor;
                state.MantissaDelta *= factor;
                state.Scale = (byte)scale;
                WriteMantissa(ref buffer, ref state, mantissa);
                return;
            }
        }

        BitWriter.Write(ref buffer, ref state.Position, 0b1111111, 7);
        WriteXor(ref buffer, ref state, bits);
    }

    private static void WriteMantissa(ref byte[] buffer, ref ChunkState state, long mantissa)
    {
        long delta = mantissa - state.Mantissa;
        long d = delta - state.MantissaDelta;
        if (d == 0)
        {
            BitWriter.Write(ref buffer, ref state.Position, 0, 1);
        }
        else if (d is >= -8 and <= 7)
        {
            BitWriter.Write(ref buffer, ref state.Position, (0b10UL << 4) | ((ulong)d & 0xF), 6);
        }
        else if (d is >= -2048 and <= 2047)
        {
            BitWriter.Write(ref buffer, ref state.Position, (0b110UL << 12) | ((ulong)d & 0xFFF), 15);
        }
        else if (d is >= -8388608 and <= 8388607)
        {
            BitWriter.Write(ref buffer, ref state.Position, (0b1110UL << 24) | ((ulong)d & 0xFF_FFFF), 28);
        }
        else
        {
            BitWriter.Write(ref buffer, ref state.Position, 0b11110, 5);
            BitWriter.Write(ref buffer, ref state.Position, (ulong)d & ((1UL << 56) - 1), 56);
        }

        state.Mantissa = mantissa;
        state.MantissaDelta = delta;
    }

    private static void ReadDecimal(ref BitReader reader, ref ChunkState state)
    {
        int code = reader.ReadPrefix(7);
        if (code == 6)
        {
            return;
        }

        if (code == 7)
        {
            state.ValueBits = ReadXor(ref reader, ref state);
            return;
        }

        if (code == 5)
        {
            int scale = (int)reader.Read(5);
            if (scale <= state.Scale || scale > MaxScale || scale - state.Scale > 15)
            {
                throw new InvalidDataException("Metrics chunk with an invalid scale change.");
            }

            long factor = (long)s_pow10[scale - state.Scale];
            state.Mantissa *= factor;
            state.MantissaDelta *= factor;
            state.Scale = (byte)scale;
            code = reader.ReadPrefix(7);
        }

        long d = code switch
        {
            0 => 0,
            1 => reader.ReadSigned(4),
            2 => reader.ReadSigned(12),
            3 => reader.ReadSigned(24),
            4 => reader.ReadSigned(56),
            _ => throw new InvalidDataException("Metrics chunk with an invalid value code."),
        };
        state.MantissaDelta += d;
        state.Mantissa += state.MantissaDelta;
        state.ValueBits = (ulong)BitConverter.DoubleToInt64Bits(state.Mantissa / s_pow10[state.Scale]);
    }

    private static void WriteXor(ref byte[] buffer, ref ChunkState state, ulong bits)
    {
        ulong xor = bits ^ state.ValueBits;
        int leading = Math.Min(BitOperations.LeadingZeroCount(xor), 31);
        int trailing = BitOperations.TrailingZeroCount(xor);
        if (state.Leading != 0xFF && leading >= state.Leading && trailing >= state.Trailing)
        {
            int length = 64 - state.Leading - state.Trailing;
            BitWriter.Write(ref buffer, ref state.Position, 0, 1);
            BitWriter.Write(ref buffer, ref state.Position, xor >> state.Trailing, length);
            return;
        }

        int significant = 64 - leading - trailing;
        BitWriter.Write(ref buffer, ref state.Position, (1UL << 11) | ((uint)leading << 6) | (uint)(significant - 1), 12);
        BitWriter.Write(ref buffer, ref state.Position, xor >> trailing, significant);
        state.Leading = (byte)leading;
        state.Trailing = (byte)trailing;
    }

    private static ulong ReadXor(ref BitReader reader, ref ChunkState state)
    {
        if (reader.Read(1) == 0)
        {
            if (state.Leading == 0xFF)
            {
                throw new InvalidDataException("Metrics chunk reuses an XOR window before setting one.");
            }

            int length = 64 - state.Leading - state.Trailing;
            return state.ValueBits ^ (reader.Read(length) << state.Trailing);
        }

        ulong header = reader.Read(11);
        int leading = (int)(header >> 6);
        int significant = (int)(header & 63) + 1;
        int trailing = 64 - leading - significant;
        if (trailing < 0)
        {
            throw new InvalidDataException("Metrics chunk with an invalid XOR window.");
        }

        state.Leading = (byte)leading;
        state.Trailing = (byte)trailing;
        return state.ValueBits ^ (reader.Read(significant) << trailing);
    }
}
