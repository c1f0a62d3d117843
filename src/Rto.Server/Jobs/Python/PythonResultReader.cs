using System.Buffers.Binary;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Parquet;
using Parquet.Schema;

namespace Rto.Server.Jobs.Python;

/// <summary>
/// Reads what a Python worker sends back on its stdout and writes the result beside the input:
/// a table as <c>&lt;stem&gt;_ansver.parquet</c> (Parquet.Net, one row group per chunk the worker
/// sent), text as <c>&lt;stem&gt;_ansver.txt</c>, each through a <see cref="JobOutputFile"/>.
/// The server never holds more than one chunk, and never writes more than the configured maximum.
/// </summary>
internal sealed class PythonResultReader(Stream channel, string directory, string stem, long maxResultSize)
{
    private const int MaxHeaderSize = 16 << 20;

    /// <summary>The result file written, or null when the worker reported an error (<paramref name="error"/>) or ended early.</summary>
    public string? Read(out string? error)
    {
        error = null;
        JsonDocument? header = ReadHeader();
        if (header is null)
        {
            return null;
        }

        using (header)
        {
            JsonElement message = header.RootElement;
            switch (message.GetProperty("type").GetString())
            {
                case "error":
                    error = message.GetProperty("message").GetString() ?? "The Python task failed.";
                    return null;
                case "text":
                    return WriteText(message.GetProperty("length").GetInt64());
                case "table":
                    return WriteTable(message.GetProperty("columns"));
                default:
                    throw new InvalidDataException("The Python worker sent a message the server does not know.");
            }
        }
    }

    private string WriteText(long length)
    {
        if (length > maxResultSize)
        {
            throw new InvalidDataException($"The result is {length} bytes of text, more than Jobs:Python:MaxResultSize ({maxResultSize}) allows.");
        }

        string name = stem + "_ansver.txt";
        using JobOutputFile output = JobOutputFile.Create(directory, name);
        using (FileStream file = output.OpenWrite())
        {
            Copy(length, file);
        }

        output.Commit();
        return name;
    }

    private string? WriteTable(JsonElement columns)
    {
        var fields = new List<(DataField Field, string Type, bool Nullable)>();
        foreach (JsonElement column in columns.EnumerateArray())
        {
            string name = column.GetProperty("name").GetString()!, type = column.GetProperty("type").GetString()!;
            bool nullable = column.GetProperty("nullable").GetBoolean();
            bool utc = column.TryGetProperty("tz", out JsonElement tz) && tz.ValueKind == JsonValueKind.String;
            fields.Add((Field(name, type, nullable, utc), type, nullable));
        }

        string result = stem + JobExecutor.ResultSuffix;
        using JobOutputFile output = JobOutputFile.Create(directory, result);
        WriteRowGroupsAsync(output.OpenWrite(), fields).GetAwaiter().GetResult();
        output.Commit();
        return result;
    }

    private async Task WriteRowGroupsAsync(FileStream file, List<(DataField Field, string Type, bool Nullable)> fields)
    {
        await using FileStream _ = file;
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(fields.Select(f => (Field)f.Field)), file, JobExecutor.WriterOptions);
        long total = 0;
        while (true)
        {
            using JsonDocument header = ReadHeader() ?? throw new EndOfStreamException("The Python worker ended in the middle of its result.");
            JsonElement message = header.RootElement;
            string? type = message.GetProperty("type").GetString();
            if (type == "end")
            {
                return;
            }

            if (type == "error")
            {
                throw new InvalidDataException(message.GetProperty("message").GetString());
            }

            int rows = message.GetProperty("rows").GetInt32();
            JsonElement[] lengths = [.. message.GetProperty("lengths").EnumerateArray()];
            using ParquetRowGroupWriter group = writer.CreateRowGroup();
            for (int j = 0; j < fields.Count; j++)
            {
                long[] parts = [.. lengths[j].EnumerateArray().Select(l => l.GetInt64())];
                total += parts.Sum();
                if (total > maxResultSize)
                {
                    throw new InvalidDataException($"The result is larger than Jobs:Python:MaxResultSize ({maxResultSize} bytes).");
                }

                byte[] data = ReadBytes(parts[0]), offsets = ReadBytes(parts[1]), mask = ReadBytes(parts[2]);
                await WriteColumnAsync(group, fields[j], rows, data, offsets, mask.Length > 0 ? mask : null);
            }
        }
    }

    private static DataField Field(string name, string type, bool nullable, bool utc) => type switch
    {
        "f8" => new DataField(name, typeof(double), nullable),
        "f4" => new DataField(name, typeof(float), nullable),
        "i8" => new DataField(name, typeof(long), nullable),
        "i4" => new DataField(name, typeof(int), nullable),
        "i2" => new DataField(name, typeof(short), nullable),
        "i1" => new DataField(name, typeof(sbyte), nullable),
        "u8" => new DataField(name, typeof(ulong), nullable),
        "u4" => new DataField(name, typeof(uint), nullable),
        "u2" => new DataField(name, typeof(ushort), nullable),
        "u1" => new DataField(name, typeof(byte), nullable),
        "b1" => new DataField(name, typeof(bool), nullable),

        // Microseconds, as pyarrow 12 (the original's) stored pandas timestamps in Parquet.
        "ts" => new DateTimeDataField(name, DateTimeFormat.Timestamp, utc, DateTimeTimeUnit.Micros, isNullable: nullable),
        "str" => new DataField(name, typeof(string), true),
        "bin" => new DataField(name, typeof(byte[]), true),
        _ => throw new InvalidDataException($"The Python worker sent column '{name}' of an unknown type '{type}'."),
    };

    private static Task WriteColumnAsync(ParquetRowGroupWriter group, (DataField Field, string Type, bool Nullable) column, int rows, byte[] data, byte[] offsets, byte[]? mask)
    {
        return column.Type switch
        {
            "f8" => Numbers<double>(group, column, data, mask),
            "f4" => Numbers<float>(group, column, data, mask),
            "i8" => Numbers<long>(group, column, data, mask),
            "i4" => Numbers<int>(group, column, data, mask),
            "i2" => Numbers<short>(group, column, data, mask),
            "i1" => Numbers<sbyte>(group, column, data, mask),
            "u8" => Numbers<ulong>(group, column, data, mask),
            "u4" => Numbers<uint>(group, column, data, mask),
            "u2" => Numbers<ushort>(group, column, data, mask),
            "u1" => Numbers<byte>(group, column, data, mask),
            "b1" => Numbers<bool>(group, column, data, mask),
            "ts" => Timestamps(group, column, data, mask),
            "str" => group.WriteAsync(column.Field, Items(rows, data, offsets, mask, bytes => Encoding.UTF8.GetString(bytes))),
            _ => group.WriteAsync(column.Field, Items(rows, data, offsets, mask, bytes => bytes.ToArray())),
        };
    }

    private static Task Numbers<T>(ParquetRowGroupWriter group, (DataField Field, string Type, bool Nullable) column, byte[] data, byte[]? mask)
        where T : unmanaged
    {
        T[] values = MemoryMarshal.Cast<byte, T>(data).ToArray();
        if (!column.Nullable)
        {
            return group.WriteAsync<T>(column.Field, values.AsMemory());
        }

        var nullable = new T?[values.Length];
        for (int i = 0; i < values.Length; i++)
        {
            nullable[i] = mask is not null && mask[i] != 0 ? null : values[i];
        }

        return group.WriteAsync<T>(column.Field, nullable.AsMemory());
    }

    private static Task Timestamps(ParquetRowGroupWriter group, (DataField Field, string Type, bool Nullable) column, byte[] data, byte[]? mask)
    {
        ReadOnlySpan<long> nanoseconds = MemoryMarshal.Cast<byte, long>(data);
        if (!column.Nullable)
        {
            var values = new DateTime[nanoseconds.Length];
            for (int i = 0; i < values.Length; i++)
            {
                values[i] = DateTime.UnixEpoch.AddTicks(nanoseconds[i] / 100);
            }

            return group.WriteAsync<DateTime>(column.Field, values.AsMemory());
        }

        var nullable = new DateTime?[nanoseconds.Length];
        for (int i = 0; i < nullable.Length; i++)
        {
            nullable[i] = mask is not null && mask[i] != 0 ? null : DateTime.UnixEpoch.AddTicks(nanoseconds[i] / 100);
        }

        return group.WriteAsync<DateTime>(column.Field, nullable.AsMemory());
    }

    private static T?[] Items<T>(int rows, byte[] data, byte[] offsets, byte[]? mask, Func<ReadOnlySpan<byte>, T> convert)
        where T : class
    {
        ReadOnlySpan<long> ends = MemoryMarshal.Cast<byte, long>(offsets);
        var items = new T?[rows];
        for (int i = 0; i < rows; i++)
        {
            items[i] = mask is not null && mask[i] != 0 ? null : convert(data.AsSpan((int)ends[i], (int)(ends[i + 1] - ends[i])));
        }

        return items;
    }

    private JsonDocument? ReadHeader()
    {
        byte[] length = new byte[4];
        int read = channel.ReadAtLeast(length, 4, throwOnEndOfStream: false);
        if (read == 0)
        {
            return null;
        }

        if (read < 4)
        {
            throw new EndOfStreamException("The Python worker ended in the middle of a message.");
        }

        int size = BinaryPrimitives.ReadInt32LittleEndian(length);
        if (size is < 2 or > MaxHeaderSize)
        {
            throw new InvalidDataException("The Python worker sent a malformed message.");
        }

        return JsonDocument.Parse(ReadBytes(size));
    }

    private byte[] ReadBytes(long count)
    {
        if (count > Array.MaxLength)
        {
            throw new InvalidDataException("The Python worker sent a chunk larger than the server reads at once.");
        }

        byte[] buffer = new byte[count];
        channel.ReadExactly(buffer);
        return buffer;
    }

    private void Copy(long count, Stream destination)
    {
        byte[] buffer = new byte[1 << 16];
        while (count > 0)
        {
            int read = channel.Read(buffer, 0, (int)Math.Min(buffer.Length, count));
            if (read == 0)
            {
                throw new EndOfStreamException("The Python worker ended in the middle of its result.");
            }

            destination.Write(buffer, 0, read);
            count -= read;
        }
    }
}
