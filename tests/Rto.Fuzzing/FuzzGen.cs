using System.Text;
using CsCheck;

namespace Rto.Fuzzing;

/// <summary>
/// Bytes as a fuzzer needs them: built from a protocol's own tokens (so inputs get past the
/// first check), mutated (a valid message with a byte flipped, a token inserted, a range cut or
/// repeated), and cut into the chunks a socket would deliver.
/// </summary>
public static class FuzzGen
{
    /// <summary>Bytes that break parsers of text in general: controls, invalid and partial UTF-8, line ends, separators.</summary>
    public static readonly string[] CommonTokens =
    [
        " ", "\t", "\n", "\r", "\r\n", "\0", "\u007f", "\u0085", "\u00a0", "\u2028", "é", "日", "😀", "\uFEFF",
        "0", "1", "-", "+", ".", "e", "E", "-0", "1e308", "1e309", "-1e-400", "NaN", "Infinity", "-Infinity", "∞",
        "9223372036854775807", "9223372036854775808", "18446744073709551616", "00000000000000000000001",
        "0x10", "1_0", "١٢", "#", "%", "%0A", "%ZZ", "\"", "\\", ":", ";", ",", "=",
    ];

    /// <summary>Raw bytes that are not UTF-8 or cut a multi-byte character short.</summary>
    public static readonly byte[][] InvalidUtf8 = [[0xFF], [0xC3], [0xE6, 0x97], [0xF0, 0x9F, 0x98], [0xC0, 0x80], [0xED, 0xA0, 0x80], [0x80]];

    /// <summary>Junk: up to <paramref name="maxTokens"/> tokens from <paramref name="tokens"/>, <see cref="CommonTokens"/>, <see cref="InvalidUtf8"/> and random bytes.</summary>
    public static Gen<byte[]> Junk(IReadOnlyList<string> tokens, int maxTokens = 40)
    {
        byte[][] own = [.. tokens.Select(Encoding.UTF8.GetBytes)];
        byte[][] common = [.. CommonTokens.Select(Encoding.UTF8.GetBytes)];
        Gen<byte[]> token = Gen.Frequency(
            (6, Gen.OneOf(own)),
            (3, Gen.OneOf(common)),
            (1, Gen.OneOf(InvalidUtf8)),
            (2, Gen.Byte.Array[1, 4]));
        return token.Array[0, maxTokens].Select(parts => parts.SelectMany(p => p).ToArray());
    }

    /// <summary><paramref name="valid"/> with 1–4 random edits, using <paramref name="tokens"/> for insertions.</summary>
    public static Gen<byte[]> Mutated(Gen<byte[]> valid, IReadOnlyList<string> tokens) =>
        Gen.Select(valid, Edit(tokens).Array[1, 4], (bytes, edits) => edits.Aggregate(bytes, (b, edit) => edit(b)));

    /// <summary>Chunk sizes for <see cref="ByteFeed"/>: none means all bytes at once.</summary>
    public static Gen<int[]> Chunks { get; } = Gen.Frequency(
        (1, Gen.Const(Array.Empty<int>())),
        (3, Gen.Int[1, 64].Array[1, 8]),
        (1, Gen.Const(new[] { 1 })));

    /// <summary>A value other parsers take wrongly: huge, tiny, negative zero, exact powers, many digits.</summary>
    public static Gen<double> FiniteDouble { get; } = Gen.Frequency(
        (4, Gen.Double[-1e6, 1e6]),
        (3, Gen.Double.Where(double.IsFinite)),
        (2, Gen.OneOf(0.0, -0.0, double.Epsilon, -double.Epsilon, double.MaxValue, double.MinValue, 1e-320, 0.1, 1e16, 1e-5, 1e21, 123456789012345678.0, 0.30000000000000004, 5e-324, 1.7976931348623157e308)));

    /// <summary>Shows bytes as a C# string literal would, so a failure can be pasted into a regression test.</summary>
    public static string Show(byte[] bytes)
    {
        var s = new StringBuilder("\"");
        foreach (byte b in bytes)
        {
            s.Append(b switch
            {
                (byte)'\n' => "\\n",
                (byte)'\r' => "\\r",
                (byte)'\t' => "\\t",
                (byte)'"' => "\\\"",
                (byte)'\\' => "\\\\",
                >= 0x20 and < 0x7F => ((char)b).ToString(),
                _ => $"\\x{b:X2}",
            });
        }

        return s.Append("\"u8 (").Append(bytes.Length).Append(" bytes)").ToString();
    }

    private static Gen<Func<byte[], byte[]>> Edit(IReadOnlyList<string> tokens)
    {
        byte[][] insertions = [.. tokens.Concat(CommonTokens).Select(Encoding.UTF8.GetBytes), .. InvalidUtf8];
        return Gen.Frequency<Func<byte[], byte[]>>(
            (3, Gen.Select(Gen.Int.Uniform, Gen.Byte, (at, value) => (Func<byte[], byte[]>)(b => b.Length == 0 ? [value] : Replace(b, Index(at, b.Length), value)))),
            (3, Gen.Select(Gen.Int.Uniform, Gen.OneOf(insertions), (at, token) => (Func<byte[], byte[]>)(b => [.. b.AsSpan(0, Index(at, b.Length + 1)), .. token, .. b.AsSpan(Index(at, b.Length + 1))]))),
            (2, Gen.Select(Gen.Int.Uniform, Gen.Int[1, 8], (at, length) => (Func<byte[], byte[]>)(b => Cut(b, at, length)))),
            (1, Gen.Select(Gen.Int.Uniform, Gen.Int[1, 16], (at, length) => (Func<byte[], byte[]>)(b => Repeat(b, at, length)))),
            (1, Gen.Int.Uniform.Select(at => (Func<byte[], byte[]>)(b => b[..Index(at, b.Length + 1)]))));
    }

    private static int Index(int random, int length) => length == 0 ? 0 : (int)((uint)random % (uint)length);

    private static byte[] Replace(byte[] bytes, int at, byte value)
    {
        byte[] copy = [.. bytes];
        copy[at] = value;
        return copy;
    }

    private static byte[] Cut(byte[] bytes, int at, int length)
    {
        int start = Index(at, bytes.Length + 1);
        int end = Math.Min(bytes.Length, start + length);
        return [.. bytes.AsSpan(0, start), .. bytes.AsSpan(end)];
    }

    private static byte[] Repeat(byte[] bytes, int at, int length)
    {
        int start = Index(at, bytes.Length + 1);
        int end = Math.Min(bytes.Length, start + length);
        return [.. bytes.AsSpan(0, end), .. bytes.AsSpan(start, end - start), .. bytes.AsSpan(end)];
    }
}
