using System.Buffers;
using CsCheck;
using Rto.Protocols;
using Rto.Protocols.Meters;

namespace Rto.Fuzzing.Targets;

/// <summary>Meter lines in, through <see cref="MeterLineReader"/> as the server reads them.</summary>
/// <param name="Bytes">What the meter sent.</param>
/// <param name="Chunks">How the bytes arrive.</param>
/// <param name="MaxLineLength">The reader's limit.</param>
/// <param name="Written">The readings the writer wrote into <paramref name="Bytes"/>, when nothing was mutated.</param>
public sealed record MeterInput(byte[] Bytes, int[] Chunks, int MaxLineLength, MeterReading[]? Written)
{
    /// <inheritdoc/>
    public override string ToString() => $"{FuzzGen.Show(Bytes)}, chunks [{string.Join(", ", Chunks)}], max line {MaxLineLength}";
}

/// <summary>
/// The meter line (<see cref="MeterLineReader"/>, <see cref="MeterLineParser"/>,
/// <see cref="MeterTimestamp"/>). Never throws; every non-blank line is one message; a valid
/// reading has a finite value; <see cref="MeterLineWriter"/> output reads back as the same
/// readings, and any valid reading written again reads as itself.
/// </summary>
public sealed class MeterLineTarget : FuzzTarget<MeterInput>
{
    private static readonly string[] s_tokens = ["10.0.0.1", "255.255.255.255", "0.0.0.0", "010.0.0.1", "256.1.1.1", "1.2.3", "2024.02.29 23:59:59.999999", "2023.02.29 00:00:00.000000", "0001.01.01 00:00:00.000000", "9999.12.31 23:59:59.999999", "\t", "220.5", "-1e3", "."];

    // Years 1-9999: everything MeterTimestamp can write.
    private static readonly Gen<MeterReading> s_reading = Gen.Select(
        Gen.UInt,
        Gen.Long[0, (DateTime.MaxValue.Ticks / 10) - 1],
        FuzzGen.FiniteDouble,
        (ip, timestamp, value) => new MeterReading(ip, timestamp, value));

    private static readonly Gen<(byte[] Bytes, MeterReading[] Readings)> s_written = s_reading.Array[1, 4].Select(readings => (Write(readings), readings));

    /// <inheritdoc/>
    public override string Name => "meter-line";

    /// <inheritdoc/>
    public override string Description => "meter lines through MeterLineReader: no exception, every line one message, writer output and every valid reading round-trip";

    /// <inheritdoc/>
    protected override Gen<MeterInput> Inputs { get; } = Gen.Frequency(
        (2, Gen.Select(s_written, FuzzGen.Chunks, (w, chunks) => new MeterInput(w.Bytes, chunks, 1024, w.Readings))),
        (3, Gen.Select(FuzzGen.Mutated(s_written.Select(w => w.Bytes), s_tokens), FuzzGen.Chunks, Gen.OneOf(16, 60, 1024), (bytes, chunks, max) => new MeterInput(bytes, chunks, max, null))),
        (2, Gen.Select(FuzzGen.Junk(s_tokens), FuzzGen.Chunks, Gen.OneOf(16, 60, 1024), (bytes, chunks, max) => new MeterInput(bytes, chunks, max, null))));

    /// <inheritdoc/>
    public override void Check(MeterInput input)
    {
        ArgumentNullException.ThrowIfNull(input);
        var reader = new Box { Reader = new MeterLineReader(input.MaxLineLength) };
        var readings = new List<MeterReading?>();
        ByteFeed.Run(input.Bytes, input.Chunks, (in ReadOnlySequence<byte> bytes, ref SequencePosition consumed, ref SequencePosition examined) =>
        {
            if (!reader.Reader.TryParseMessage(bytes, ref consumed, ref examined, out MeterLine line))
            {
                return false;
            }

            readings.Add(line.Status == MessageStatus.Valid ? line.Reading : null);
            return true;
        });

        foreach (MeterReading reading in readings.OfType<MeterReading>())
        {
            if (!double.IsFinite(reading.Value))
            {
                throw new FuzzPropertyException($"a valid reading holds {reading.Value}");
            }

            byte[] again = Write([reading]);
            if (!MeterLineParser.TryParse(again.AsSpan(0, again.Length - 1), out MeterReading reread) || reread != reading)
            {
                throw new FuzzPropertyException($"{reading} was written as {FuzzGen.Show(again)}, which does not read back as the same reading");
            }
        }

        if (input.Written is { } written && !readings.SequenceEqual(written.Select(r => (MeterReading?)r)))
        {
            throw new FuzzPropertyException($"the writer's readings [{string.Join(", ", written)}] were read as [{string.Join(", ", readings)}]");
        }
    }

    private static byte[] Write(IEnumerable<MeterReading> readings)
    {
        var output = new ArrayBufferWriter<byte>();
        foreach (MeterReading reading in readings)
        {
            MeterLineWriter.Write(output, reading);
        }

        return output.WrittenSpan.ToArray();
    }

    private sealed class Box
    {
        public MeterLineReader Reader;
    }
}
