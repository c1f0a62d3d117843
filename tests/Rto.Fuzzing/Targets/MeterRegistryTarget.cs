using System.Globalization;
using System.IO.Pipelines;
using System.Text;
using CsCheck;
using Rto.Protocols.Meters;

namespace Rto.Fuzzing.Targets;

/// <summary>A registry file's bytes, how a read returns them, and the meters written into them when unmutated.</summary>
/// <param name="Bytes">The file.</param>
/// <param name="Chunks">The sizes the stream under the pipe returns, repeated (empty: all at once).</param>
/// <param name="Written">The meters written, when unmutated.</param>
public sealed record RegistryInput(byte[] Bytes, int[] Chunks, MeterDefinition[]? Written)
{
    /// <inheritdoc/>
    public override string ToString() => $"{FuzzGen.Show(Bytes)}, chunks [{string.Join(", ", Chunks)}]";
}

/// <summary>
/// The meter registry file (<see cref="MeterRegistryReader"/>). Never throws; every line is a meter,
/// an error (numbered within the file) or skipped; each meter's range is ordered; a meter written
/// as a registry line reads back as itself, and a registry of written lines reads back as its meters
/// with no errors, however the file's bytes arrive.
/// </summary>
public sealed class MeterRegistryTarget : FuzzTarget<RegistryInput>
{
    private static readonly string[] s_tokens = ["10.0.0.1", "0.0.0.0", "010.0.0.1", "\t", "В", "V", "А", "A", "Б", "#", "\uFEFF", " ", "220", "-5", "1e400", "\n", "\r\n"];

    private static readonly Gen<MeterDefinition> s_meter = Gen.Select(Gen.UInt, FuzzGen.FiniteDouble, FuzzGen.FiniteDouble, Gen.Bool, (ip, a, b, volts) =>
        new MeterDefinition(ip, Math.Min(a, b), Math.Max(a, b), volts ? MeterUnit.Volt : MeterUnit.Ampere));

    private static readonly Gen<(byte[] Bytes, MeterDefinition[] Meters)> s_written = Gen.Select(s_meter.Array[0, 6], Gen.Bool, Gen.Bool, Gen.Bool, (meters, bom, latin, crlf) =>
    {
        var text = new StringBuilder(bom ? "\uFEFF# ip\tfrom\tto\tunit\n" : "# ip\tfrom\tto\tunit\n");
        foreach (MeterDefinition meter in meters)
        {
            text.Append(Line(meter, latin)).Append(crlf ? "\r\n" : "\n").Append('\n');
        }

        return (Encoding.UTF8.GetBytes(text.ToString()), meters);
    });

    /// <inheritdoc/>
    public override string Name => "meter-registry";

    /// <inheritdoc/>
    public override string Description => "meter registry files through MeterRegistryReader.ReadAsync: no exception, ordered ranges, errors numbered within the file, written meters round-trip";

    /// <inheritdoc/>
    protected override Gen<RegistryInput> Inputs { get; } = Gen.Frequency(
        (2, Gen.Select(s_written, FuzzGen.Chunks, (w, chunks) => new RegistryInput(w.Bytes, chunks, w.Meters))),
        (3, Gen.Select(FuzzGen.Mutated(s_written.Select(w => w.Bytes), s_tokens), FuzzGen.Chunks, (bytes, chunks) => new RegistryInput(bytes, chunks, null))),
        (2, Gen.Select(FuzzGen.Junk(s_tokens, 60), FuzzGen.Chunks, (bytes, chunks) => new RegistryInput(bytes, chunks, null))),
        (1, Gen.Select(Gen.Int[1000, 3000], FuzzGen.Chunks, (length, chunks) => new RegistryInput(Encoding.UTF8.GetBytes(new string('1', length) + "\n10.0.0.1\t0\t1\tV"), chunks, null))));

    /// <inheritdoc/>
    public override void Check(RegistryInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        using var stream = new ChunkedStream(input.Bytes, input.Chunks);
        MeterRegistryContent content = MeterRegistryReader.ReadAsync(PipeReader.Create(stream, new StreamPipeReaderOptions(bufferSize: 64, minimumReadSize: 16))).GetAwaiter().GetResult();

        int lines = input.Bytes.Count(b => b == (byte)'\n') + 1;
        foreach (MeterRegistryError error in content.Errors)
        {
            if (error.LineNumber < 1 || error.LineNumber > lines)
            {
                throw new FuzzPropertyException($"error at line {error.LineNumber} of a {lines}-line file");
            }
        }

        if (content.Meters.Count + content.Errors.Count > lines)
        {
            throw new FuzzPropertyException($"{content.Meters.Count} meters and {content.Errors.Count} errors from {lines} lines");
        }

        foreach (MeterDefinition meter in content.Meters)
        {
            if (!(meter.RangeStart <= meter.RangeStop))
            {
                throw new FuzzPropertyException($"{meter} has an unordered range");
            }

            string line = Line(meter, latin: false);
            if (!MeterRegistryReader.TryParseLine(Encoding.UTF8.GetBytes(line), out MeterDefinition reread) || reread != meter)
            {
                throw new FuzzPropertyException($"{meter} written as \"{line}\" does not read back as itself");
            }
        }

        if (input.Written is { } written && (content.Errors.Count > 0 || !content.Meters.SequenceEqual(written)))
        {
            throw new FuzzPropertyException($"the written meters [{string.Join(", ", written)}] were read as [{string.Join(", ", content.Meters)}] with errors [{string.Join(", ", content.Errors)}]");
        }
    }

    private static string Line(MeterDefinition meter, bool latin) =>
        string.Create(CultureInfo.InvariantCulture, $"{MeterLineParser.FormatIPv4(meter.Ip)}\t{meter.RangeStart:R}\t{meter.RangeStop:R}\t{(meter.Unit, latin) switch
        {
            (MeterUnit.Volt, true) => "V",
            (MeterUnit.Volt, false) => "В",
            (_, true) => "A",
            _ => "А",
        }}");

    /// <summary>A stream returning at most the next chunk's size per read, as a slow disk or network file system might.</summary>
    private sealed class ChunkedStream(byte[] bytes, int[] chunks) : Stream
    {
        private int _position;
        private int _chunk;

        public override bool CanRead => true;

        public override bool CanSeek => false;

        public override bool CanWrite => false;

        public override long Length => throw new NotSupportedException();

        public override long Position
        {
            get => throw new NotSupportedException();
            set => throw new NotSupportedException();
        }

        public override int Read(byte[] buffer, int offset, int count) => Read(buffer.AsSpan(offset, count));

        public override int Read(Span<byte> buffer)
        {
            int size = Math.Min(buffer.Length, Math.Min(bytes.Length - _position, chunks.Length == 0 ? int.MaxValue : chunks[_chunk++ % chunks.Length]));
            bytes.AsSpan(_position, size).CopyTo(buffer);
            _position += size;
            return size;
        }

        public override ValueTask<int> ReadAsync(Memory<byte> buffer, CancellationToken cancellationToken = default) => ValueTask.FromResult(Read(buffer.Span));

        public override Task<int> ReadAsync(byte[] buffer, int offset, int count, CancellationToken cancellationToken) => Task.FromResult(Read(buffer.AsSpan(offset, count)));

        public override void Flush()
        {
        }

        public override long Seek(long offset, SeekOrigin origin) => throw new NotSupportedException();

        public override void SetLength(long value) => throw new NotSupportedException();

        public override void Write(byte[] buffer, int offset, int count) => throw new NotSupportedException();
    }
}
