using System.Buffers.Binary;
using System.Data.Common;
using System.Globalization;
using System.Text;
using DuckDB.NET.Data;

namespace Rto.Server.Jobs.Python;

/// <summary>One column as the worker receives it: its name, its wire type and whether it holds a null anywhere.</summary>
internal sealed record StagedColumn(string Name, string Type, string? TimeZone)
{
    public bool HasNulls { get; set; }
}

/// <summary>
/// Hands a Parquet file to a Python worker that may have neither pyarrow nor fastparquet: DuckDB
/// reads the file, and every partition's columns are written as raw little-endian buffers (values,
/// a null mask, and offsets for text) that numpy reads exactly. The partitions follow the original
/// server's <c>dask.dataframe.read_parquet</c> (dask 2023.6.1, <c>split_row_groups="infer"</c>).
/// </summary>
internal static class PythonTaskInput
{
    private const string Supported = "integers, floats, booleans, text, binary, timestamps, dates and decimals";

    /// <summary>The staged input: its columns, rows per partition and the pandas index columns the file names.</summary>
    public sealed record Staged(IReadOnlyList<StagedColumn> Columns, IReadOnlyList<long> Partitions, string? PandasIndexColumns);

    /// <summary>
    /// The rows of each partition for row groups of <paramref name="groups"/> (rows, uncompressed
    /// bytes): one partition when the file's row groups add up to at most <paramref name="blockSize"/>;
    /// otherwise consecutive row groups joined while they fit in it; one per row group when it is 0.
    /// </summary>
    public static List<long> Partition(IReadOnlyList<(long Rows, long Bytes)> groups, long blockSize)
    {
        if (groups.Count == 0)
        {
            return [0];
        }

        if (blockSize == 0)
        {
            return [.. groups.Select(g => g.Rows)];
        }

        if (groups.Sum(g => g.Bytes) <= blockSize)
        {
            return [groups.Sum(g => g.Rows)];
        }

        var partitions = new List<long>();
        (long rows, long bytes) = groups[0];
        foreach ((long groupRows, long groupBytes) in groups.Skip(1))
        {
            if (bytes + groupBytes <= blockSize)
            {
                rows += groupRows;
                bytes += groupBytes;
            }
            else
            {
                partitions.Add(rows);
                (rows, bytes) = (groupRows, groupBytes);
            }
        }

        partitions.Add(rows);
        return partitions;
    }

    /// <summary>Writes <paramref name="input"/>'s partitions into <paramref name="staging"/> as <c>p{n}.c{j}.data|.offsets|.mask</c>.</summary>
    public static Staged Write(DuckDBConnection db, string input, string staging, long blockSize, CancellationToken cancellationToken)
    {
        string source = $"read_parquet({JobExecutor.Literal(input)})";
        var columns = new List<(StagedColumn Column, string Expression)>();
        using (DuckDBCommand describe = db.CreateCommand())
        {
            describe.CommandText = $"DESCRIBE SELECT * FROM {source}";
            using DbDataReader reader = describe.ExecuteReader();
            while (reader.Read())
            {
                string name = reader.GetString(0), type = reader.GetString(1);
                columns.Add(Map(name, type) ?? throw new InvalidDataException(
                    $"Column '{name}' has the type {type}, which the server cannot hand to a Python task (it hands over {Supported})."));
            }
        }

        var groups = new List<(long, long)>();
        using (DuckDBCommand metadata = db.CreateCommand())
        {
            metadata.CommandText = $"SELECT row_group_id, max(row_group_num_rows), max(row_group_bytes) FROM parquet_metadata({JobExecutor.Literal(input)}) GROUP BY 1 ORDER BY 1";
            using DbDataReader reader = metadata.ExecuteReader();
            while (reader.Read())
            {
                groups.Add((Convert.ToInt64(reader.GetValue(1), CultureInfo.InvariantCulture), Convert.ToInt64(reader.GetValue(2), CultureInfo.InvariantCulture)));
            }
        }

        string? pandas = JobExecutor.Scalar(db, $"SELECT decode(value) FROM parquet_kv_metadata({JobExecutor.Literal(input)}) WHERE decode(key) = 'pandas' LIMIT 1") as string;
        List<long> partitions = Partition(groups, blockSize);
        WriteRows(db, source, columns, partitions, staging, cancellationToken);
        return new Staged([.. columns.Select(c => c.Column)], partitions, IndexColumns(pandas));
    }

    /// <summary>The <c>index_columns</c> of the file's pandas metadata, as JSON, when pandas wrote it.</summary>
    private static string? IndexColumns(string? pandas)
    {
        if (pandas is null)
        {
            return null;
        }

        try
        {
            using var document = System.Text.Json.JsonDocument.Parse(pandas);
            return document.RootElement.TryGetProperty("index_columns", out System.Text.Json.JsonElement index) ? index.GetRawText() : null;
        }
        catch (System.Text.Json.JsonException)
        {
            return null;
        }
    }

    private static (StagedColumn, string)? Map(string name, string type)
    {
        string c = JobExecutor.Identifier(name);
        string? code = type switch
        {
            "DOUBLE" => "f8",
            "FLOAT" => "f4",
            "BIGINT" => "i8",
            "INTEGER" => "i4",
            "SMALLINT" => "i2",
            "TINYINT" => "i1",
            "UBIGINT" => "u8",
            "UINTEGER" => "u4",
            "USMALLINT" => "u2",
            "UTINYINT" => "u1",
            "BOOLEAN" => "b1",
            _ => null,
        };
        if (code is not null)
        {
            return (new StagedColumn(name, code, null), c);
        }

        return type switch
        {
            "VARCHAR" => (new StagedColumn(name, "str", null), c),
            "UUID" => (new StagedColumn(name, "str", null), $"CAST({c} AS VARCHAR)"),
            "BLOB" => (new StagedColumn(name, "bin", null), c),
            "TIMESTAMP" or "TIMESTAMP_NS" or "TIMESTAMP_MS" or "TIMESTAMP_S" => (new StagedColumn(name, "ts", null), $"epoch_ns({c})"),
            "TIMESTAMP WITH TIME ZONE" => (new StagedColumn(name, "ts", "UTC"), $"epoch_ns({c})"),
            "DATE" => (new StagedColumn(name, "date", null), $"datediff('day', DATE '1970-01-01', {c})"),
            _ when type.StartsWith("DECIMAL", StringComparison.Ordinal) => (new StagedColumn(name, "dec", null), $"CAST({c} AS VARCHAR)"),
            _ => null,
        };
    }

    private static void WriteRows(DuckDBConnection db, string source, List<(StagedColumn Column, string Expression)> columns, List<long> partitions, string staging, CancellationToken cancellationToken)
    {
        if (columns.Count == 0)
        {
            return;
        }

        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = $"SELECT {string.Join(", ", columns.Select(c => c.Expression))} FROM {source}";
        cancellationToken.ThrowIfCancellationRequested();
        using CancellationTokenRegistration interrupt = cancellationToken.Register(command.Cancel);
        using DbDataReader reader = command.ExecuteReader();
        for (int partition = 0; partition < partitions.Count; partition++)
        {
            var sinks = columns.Select((c, j) => new ColumnSink(Path.Combine(staging, $"p{partition}.c{j}"), c.Column.Type)).ToArray();
            try
            {
                for (long row = 0; row < partitions[partition]; row++)
                {
                    if (!reader.Read())
                    {
                        throw new InvalidDataException("The input has fewer rows than its row groups declare.");
                    }

                    for (int j = 0; j < sinks.Length; j++)
                    {
                        if (sinks[j].Append(reader, j))
                        {
                            columns[j].Column.HasNulls = true;
                        }
                    }
                }
            }
            finally
            {
                foreach (ColumnSink sink in sinks)
                {
                    sink.Dispose();
                }
            }
        }
    }

    /// <summary>The files of one column of one partition.</summary>
    private sealed class ColumnSink : IDisposable
    {
        private readonly string _type;
        private readonly FileStream _data;
        private readonly FileStream _mask;
        private readonly FileStream? _offsets;
        private readonly byte[] _scratch = new byte[8];
        private long _end;

        public ColumnSink(string basePath, string type)
        {
            _type = type;
            _data = Create(basePath + ".data");
            _mask = Create(basePath + ".mask");
            if (type is "str" or "bin" or "dec")
            {
                _offsets = Create(basePath + ".offsets");
                WriteInt64(_offsets, 0);
            }
        }

        /// <summary>Appends the value in column <paramref name="ordinal"/>; returns whether it was null.</summary>
        public bool Append(DbDataReader reader, int ordinal)
        {
            bool isNull = reader.IsDBNull(ordinal);
            _mask.WriteByte(isNull ? (byte)1 : (byte)0);
            switch (_type)
            {
                case "f8": BinaryPrimitives.WriteDoubleLittleEndian(_scratch, isNull ? 0 : reader.GetDouble(ordinal)); _data.Write(_scratch, 0, 8); break;
                case "f4": BinaryPrimitives.WriteSingleLittleEndian(_scratch, isNull ? 0 : reader.GetFloat(ordinal)); _data.Write(_scratch, 0, 4); break;
                case "i8" or "ts" or "date": WriteInt64(_data, isNull ? 0 : reader.GetInt64(ordinal)); break;
                case "i4": BinaryPrimitives.WriteInt32LittleEndian(_scratch, isNull ? 0 : reader.GetInt32(ordinal)); _data.Write(_scratch, 0, 4); break;
                case "i2": BinaryPrimitives.WriteInt16LittleEndian(_scratch, isNull ? (short)0 : reader.GetInt16(ordinal)); _data.Write(_scratch, 0, 2); break;
                case "i1": _data.WriteByte(isNull ? (byte)0 : unchecked((byte)reader.GetFieldValue<sbyte>(ordinal))); break;
                case "u8": BinaryPrimitives.WriteUInt64LittleEndian(_scratch, isNull ? 0 : reader.GetFieldValue<ulong>(ordinal)); _data.Write(_scratch, 0, 8); break;
                case "u4": BinaryPrimitives.WriteUInt32LittleEndian(_scratch, isNull ? 0 : reader.GetFieldValue<uint>(ordinal)); _data.Write(_scratch, 0, 4); break;
                case "u2": BinaryPrimitives.WriteUInt16LittleEndian(_scratch, isNull ? (ushort)0 : reader.GetFieldValue<ushort>(ordinal)); _data.Write(_scratch, 0, 2); break;
                case "u1": _data.WriteByte(isNull ? (byte)0 : reader.GetFieldValue<byte>(ordinal)); break;
                case "b1": _data.WriteByte(!isNull && reader.GetBoolean(ordinal) ? (byte)1 : (byte)0); break;
                case "bin":
                    if (!isNull)
                    {
                        using Stream blob = reader.GetStream(ordinal);
                        long before = _data.Position;
                        blob.CopyTo(_data);
                        _end += _data.Position - before;
                    }

                    WriteInt64(_offsets!, _end);
                    break;
                default:
                    if (!isNull)
                    {
                        byte[] text = Encoding.UTF8.GetBytes(reader.GetString(ordinal));
                        _data.Write(text);
                        _end += text.Length;
                    }

                    WriteInt64(_offsets!, _end);
                    break;
            }

            return isNull;
        }

        public void Dispose()
        {
            _data.Dispose();
            _mask.Dispose();
            _offsets?.Dispose();
        }

        private static FileStream Create(string path) => new(path, FileMode.CreateNew, FileAccess.Write, FileShare.None, 1 << 16);

        private void WriteInt64(FileStream stream, long value)
        {
            BinaryPrimitives.WriteInt64LittleEndian(_scratch, value);
            stream.Write(_scratch, 0, 8);
        }
    }
}
