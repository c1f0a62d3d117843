using System.Buffers;
using System.IO.Pipelines;
using System.Text;

namespace Rto.Protocols.Meters;

/// <summary>A registry line that could not be read.</summary>
/// <param name="LineNumber">The 1-based line number.</param>
/// <param name="Text">The line's text.</param>
public readonly record struct MeterRegistryError(int LineNumber, string Text);

/// <summary>What <see cref="MeterRegistryReader.ReadAsync(PipeReader, CancellationToken)"/> read.</summary>
/// <param name="Meters">The meters, in file order (a repeated IP keeps its last definition when indexed).</param>
/// <param name="Errors">Lines that were not valid meter definitions.</param>
public sealed record MeterRegistryContent(IReadOnlyList<MeterDefinition> Meters, IReadOnlyList<MeterRegistryError> Errors);

/// <summary>
/// Reads the meter registry: UTF-8 TSV, one meter per line <c>ip\trange_start\trange_stop\tunit</c>,
/// where the unit is <c>В</c>/<c>V</c> (volts) or <c>А</c>/<c>A</c> (amperes), Cyrillic or Latin.
/// Blank lines and lines starting with <c>#</c> are skipped.
/// </summary>
public static class MeterRegistryReader
{
    private const int MaxLineLength = 1024;

    /// <summary>Reads a whole registry from <paramref name="reader"/> and completes it.</summary>
    public static async Task<MeterRegistryContent> ReadAsync(PipeReader reader, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(reader);
        var meters = new List<MeterDefinition>();
        var errors = new List<MeterRegistryError>();
        var framer = new LineFramer(MaxLineLength);
        int lineNumber = 0;
        try
        {
            while (true)
            {
                ReadResult result = await reader.ReadAsync(cancellationToken);
                ReadOnlySequence<byte> buffer = result.Buffer;
                while (true)
                {
                    LineReadStatus status = framer.TryReadLine(ref buffer, out ReadOnlySequence<byte> line);
                    if (status == LineReadStatus.NeedMoreData)
                    {
                        break;
                    }

                    lineNumber++;
                    if (status == LineReadStatus.LineTooLong)
                    {
                        errors.Add(new MeterRegistryError(lineNumber, "<line too long>"));
                        continue;
                    }

                    AddLine(line.ToArray(), lineNumber, meters, errors);
                }

                if (result.IsCompleted)
                {
                    if (!buffer.IsEmpty)
                    {
                        // The last line has no terminator.
                        AddLine(buffer.ToArray(), ++lineNumber, meters, errors);
                        buffer = buffer.Slice(buffer.End);
                    }

                    reader.AdvanceTo(buffer.End);
                    break;
                }

                reader.AdvanceTo(buffer.Start, buffer.End);
            }
        }
        finally
        {
            await reader.CompleteAsync();
        }

        return new MeterRegistryContent(meters, errors);
    }

    /// <summary>Reads the registry file at <paramref name="path"/>.</summary>
    public static async Task<MeterRegistryContent> ReadFileAsync(string path, CancellationToken cancellationToken = default)
    {
        await using FileStream file = new(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 4096, useAsync: true);
        return await ReadAsync(PipeReader.Create(file), cancellationToken);
    }

    /// <summary>Parses one registry line (without its terminator).</summary>
    public static bool TryParseLine(ReadOnlySpan<byte> line, out MeterDefinition meter)
    {
        meter = default;
        ReadOnlySpan<byte> rest = line;
        if (!NextField(ref rest, out ReadOnlySpan<byte> ipText) || !NextField(ref rest, out ReadOnlySpan<byte> startText)
            || !NextField(ref rest, out ReadOnlySpan<byte> stopText) || rest.Contains((byte)'\t'))
        {
            return false;
        }

        if (!MeterLineParser.TryParseIPv4(Trim(ipText), out uint ip)
            || !MeterLineParser.TryParseValue(Trim(startText), out double start)
            || !MeterLineParser.TryParseValue(Trim(stopText), out double stop)
            || start > stop
            || !TryParseUnit(Trim(rest), out MeterUnit unit))
        {
            return false;
        }

        meter = new MeterDefinition(ip, start, stop, unit);
        return true;
    }

    /// <summary>Parses a unit: Cyrillic <c>В</c> or Latin <c>V</c> for volts, Cyrillic <c>А</c> or Latin <c>A</c> for amperes.</summary>
    public static bool TryParseUnit(ReadOnlySpan<byte> text, out MeterUnit unit)
    {
        if (text.SequenceEqual("В"u8) || text.SequenceEqual("V"u8))
        {
            unit = MeterUnit.Volt;
            return true;
        }

        if (text.SequenceEqual("А"u8) || text.SequenceEqual("A"u8))
        {
            unit = MeterUnit.Ampere;
            return true;
        }

        unit = default;
        return false;
    }

    private static void AddLine(byte[] line, int lineNumber, List<MeterDefinition> meters, List<MeterRegistryError> errors)
    {
        ReadOnlySpan<byte> span = line;
        if (lineNumber == 1 && span.StartsWith("\uFEFF"u8))
        {
            span = span[3..];
        }

        if (Trim(span).IsEmpty || span[0] == '#')
        {
            return;
        }

        if (TryParseLine(span, out MeterDefinition meter))
        {
            meters.Add(meter);
        }
        else
        {
            errors.Add(new MeterRegistryError(lineNumber, Encoding.UTF8.GetString(span)));
        }
    }

    private static bool NextField(ref ReadOnlySpan<byte> rest, out ReadOnlySpan<byte> field)
    {
        int tab = rest.IndexOf((byte)'\t');
        if (tab < 0)
        {
            field = default;
            return false;
        }

        field = rest[..tab];
        rest = rest[(tab + 1)..];
        return true;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text) => text.Trim(" \t"u8);
}
