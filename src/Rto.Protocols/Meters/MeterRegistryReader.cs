using System.Buffers;
using System.IO.Pipelines;
using System.Text;
using System.Text.Unicode;

namespace Rto.Protocols.Meters;

/// <summary>A registry line that could not be read.</summary>
/// <param name="LineNumber">The 1-based line number.</param>
/// <param name="Text">The line's text.</param>
public readonly record struct MeterRegistryError(int LineNumber, string Text);

/// <summary>What <see cref="MeterRegistryReader.ReadAsync(PipeReader, CancellationToken)"/> read.</summary>
/// <param name="Meters">The meters, in file order (a repeated meter keeps its last definition when indexed, as in the original).</param>
/// <param name="Errors">Lines that were not valid meter definitions.</param>
public sealed record MeterRegistryContent(IReadOnlyList<MeterDefinition> Meters, IReadOnlyList<MeterRegistryError> Errors);

/// <summary>
/// Reads the meter registry, the original server's <c>ip_mapping.txt</c> format: UTF-8, one meter
/// per line <c>meter\trange_start\trange_stop\tunit</c>, where the meter is any text (usually
/// its IPv4 address), the bounds are numbers as Python's <c>float()</c> reads them (<c>inf</c>
/// for no bound; not NaN; start at most stop) and the unit is <c>В</c>/<c>V</c> (volts) or
/// <c>А</c>/<c>A</c> (amperes), Cyrillic or Latin. A line without a TAB may separate its four
/// fields with spaces instead. White space around fields is ignored; blank lines and lines
/// starting with <c>#</c> are skipped.
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
        Span<Range> fields = stackalloc Range[5];
        int count = line.Contains((byte)'\t') ? SplitOnTabs(line, fields) : SplitOnSpaces(line, fields);
        if (count != 4)
        {
            return false;
        }

        ReadOnlySpan<byte> name = PythonText.Strip(line[fields[0]]);
        if (name.IsEmpty
            || !Utf8.IsValid(name)
            || !PythonNumber.TryParseFloat(line[fields[1]], out double start)
            || !PythonNumber.TryParseFloat(line[fields[2]], out double stop)
            || double.IsNaN(start) || double.IsNaN(stop) || start > stop
            || !TryParseUnit(PythonText.Strip(line[fields[3]]), out MeterUnit unit))
        {
            return false;
        }

        meter = new MeterDefinition(Encoding.UTF8.GetString(name), start, stop, unit);
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

    /// <summary>Fields separated by single TABs, as the original's <c>csv.reader(delimiter="\t")</c> split them; at most <paramref name="fields"/>.Length.</summary>
    private static int SplitOnTabs(ReadOnlySpan<byte> line, Span<Range> fields)
    {
        int count = 0;
        int start = 0;
        while (count < fields.Length)
        {
            int tab = line[start..].IndexOf((byte)'\t');
            if (tab < 0)
            {
                fields[count++] = new Range(start, line.Length);
                break;
            }

            fields[count++] = new Range(start, start + tab);
            start += tab + 1;
        }

        return count;
    }

    /// <summary>Fields separated by runs of spaces; at most <paramref name="fields"/>.Length (one more means too many).</summary>
    private static int SplitOnSpaces(ReadOnlySpan<byte> line, Span<Range> fields)
    {
        int count = 0;
        int i = 0;
        while (count < fields.Length)
        {
            while (i < line.Length && line[i] == ' ')
            {
                i++;
            }

            if (i == line.Length)
            {
                break;
            }

            int start = i;
            while (i < line.Length && line[i] != ' ')
            {
                i++;
            }

            fields[count++] = new Range(start, i);
        }

        return count;
    }

    private static ReadOnlySpan<byte> Trim(ReadOnlySpan<byte> text) => PythonText.Strip(text);
}
