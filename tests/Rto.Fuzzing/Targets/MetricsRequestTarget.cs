using System.Buffers;
using System.Text;
using CsCheck;
using Rto.Protocols;
using Rto.Protocols.Metrics;

namespace Rto.Fuzzing.Targets;

/// <summary>A request as the fuzz target compares it (the reader's message points into the input).</summary>
public sealed record MetricsLine(MessageStatus Status, MetricsCommand Command, string Key, double Value, long Timestamp);

/// <summary>Metrics request lines in, through <see cref="MetricsRequestReader"/> as the server reads them.</summary>
/// <param name="Bytes">What the client sent.</param>
/// <param name="Chunks">How the bytes arrive.</param>
/// <param name="MaxLineLength">The reader's limit.</param>
/// <param name="Written">The requests the writer wrote into <paramref name="Bytes"/>, when nothing was mutated.</param>
public sealed record MetricsInput(byte[] Bytes, int[] Chunks, int MaxLineLength, MetricsLine[]? Written)
{
    /// <inheritdoc/>
    public override string ToString() => $"{FuzzGen.Show(Bytes)}, chunks [{string.Join(", ", Chunks)}], max line {MaxLineLength}";
}

/// <summary>
/// The metrics request line (<see cref="MetricsRequestReader"/>, <see cref="MetricsRequestParser"/>,
/// <see cref="MetricValue"/>). Never throws; every line is one message and consumes bytes; a valid
/// put has a finite value, a timestamp ≥ 0 and a valid key; what the writer wrote parses back to
/// the same requests; and any valid request, written again, parses to itself.
/// </summary>
public sealed class MetricsRequestTarget : FuzzTarget<MetricsInput>
{
    private static readonly string[] s_tokens = ["put", "get", "PUT", "get *", "put k 1 2\n", "get k\n", " ", "\n", "*", "k", "key.name", "1.5", "1e16", "1e-05", "10.0", "20"];

    private static readonly Gen<string> s_key = Gen.OneOf("a", "Z", "9", "_", ".", "-", ":", "/", "*", "%", "é", "日", "😀", "\u0085", "\u00a0", "\u2028")
        .Array[1, 10].Select(parts => string.Concat(parts));

    private static readonly Gen<MetricsLine> s_request = Gen.Frequency(
        (3, Gen.Select(s_key, FuzzGen.FiniteDouble, Gen.Frequency((2, Gen.Long[0, 4_000_000_000]), (1, Gen.Long[0, long.MaxValue]), (1, Gen.OneOf(0L, long.MaxValue))),
            (key, value, timestamp) => new MetricsLine(MessageStatus.Valid, MetricsCommand.Put, key, value, timestamp))),
        (1, s_key.Select(key => key == "*" ? new MetricsLine(MessageStatus.Valid, MetricsCommand.GetAll, "", 0, 0) : new MetricsLine(MessageStatus.Valid, MetricsCommand.Get, key, 0, 0))));

    private static readonly Gen<(byte[] Bytes, MetricsLine[] Lines)> s_written = s_request.Array[1, 4].Select(lines => (Write(lines), lines));

    /// <inheritdoc/>
    public override string Name => "metrics-request";

    /// <inheritdoc/>
    public override string Description => "metrics request lines through MetricsRequestReader: no exception, every line one message, valid puts finite, writer output and every valid request round-trip";

    /// <inheritdoc/>
    protected override Gen<MetricsInput> Inputs { get; } = Gen.Frequency(
        (2, Gen.Select(s_written, FuzzGen.Chunks, (w, chunks) => new MetricsInput(w.Bytes, chunks, 1024, w.Lines))),
        (3, Gen.Select(FuzzGen.Mutated(s_written.Select(w => w.Bytes), s_tokens), FuzzGen.Chunks, Gen.OneOf(8, 40, 1024), (bytes, chunks, max) => new MetricsInput(bytes, chunks, max, null))),
        (2, Gen.Select(FuzzGen.Junk(s_tokens), FuzzGen.Chunks, Gen.OneOf(8, 40, 1024), (bytes, chunks, max) => new MetricsInput(bytes, chunks, max, null))));

    /// <inheritdoc/>
    public override void Check(MetricsInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var reader = new Box { Reader = new MetricsRequestReader(input.MaxLineLength) };
        var lines = new List<MetricsLine>();
        ByteFeed.Run(input.Bytes, input.Chunks, (in ReadOnlySequence<byte> bytes, ref SequencePosition consumed, ref SequencePosition examined) =>
        {
            if (!reader.Reader.TryParseMessage(bytes, ref consumed, ref examined, out MetricsRequest request))
            {
                return false;
            }

            lines.Add(Copy(request));
            return true;
        });

        foreach (MetricsLine line in lines.Where(l => l.Status == MessageStatus.Valid))
        {
            CheckValid(line);
        }

        if (input.Written is { } written && !lines.SequenceEqual(written))
        {
            throw new FuzzPropertyException($"the writer's requests [{string.Join(", ", written)}] were read as [{string.Join(", ", lines)}]");
        }
    }

    /// <inheritdoc/>
    protected override string Print(MetricsInput input) => input?.ToString() ?? "null";

    private static void CheckValid(MetricsLine line)
    {
        if (line.Command == MetricsCommand.Put && (!double.IsFinite(line.Value) || line.Timestamp < 0))
        {
            throw new FuzzPropertyException($"a valid put holds {line.Value} at {line.Timestamp}");
        }

        // Written again by the client's writer, the request must read back as itself.
        byte[] again = Write([line]);
        if (!MetricsRequestParser.TryParse(again.AsSpan(0, again.Length - 1), out MetricsRequest reread) || Copy(reread) != line)
        {
            throw new FuzzPropertyException($"{line} was written as {FuzzGen.Show(again)}, which does not read back as the same request");
        }
    }

    private static MetricsLine Copy(in MetricsRequest request) => request.Status == MessageStatus.Valid
        ? new MetricsLine(request.Status, request.Command, Encoding.UTF8.GetString(request.Key), request.Value, request.Timestamp)
        : new MetricsLine(request.Status, default, "", 0, 0);

    private static byte[] Write(IEnumerable<MetricsLine> lines)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (MetricsLine line in lines)
        {
            try
            {
                switch (line.Command)
                {
                    case MetricsCommand.Put:
                        MetricsRequestWriter.WritePut(output, line.Key, line.Value, line.Timestamp);
                        break;
                    case MetricsCommand.GetAll:
                        MetricsRequestWriter.WriteGet(output, "*");
                        break;
                    default:
                        MetricsRequestWriter.WriteGet(output, line.Key);
                        break;
                }
            }
            catch (ArgumentException ex)
            {
                throw new FuzzPropertyException($"the writer refused {line}, a request the reader accepts or the generator built: {ex.Message}", ex);
            }
        }

        return output.WrittenSpan.ToArray();
    }

    private sealed class Box
    {
        public MetricsRequestReader Reader;
    }
}
