using System.Data.Common;
using System.Diagnostics;
using System.Text.Json;
using DuckDB.NET.Data;
using Microsoft.Extensions.Options;
using Parquet;
using Rto.Protocols.Jobs;
using Rto.Server.Jobs.Python;

namespace Rto.Server.Jobs;

/// <summary>Where a job's time went.</summary>
internal readonly record struct JobPhaseTimes(TimeSpan Read, TimeSpan Compute, TimeSpan Write)
{
    /// <summary>The part of <see cref="Compute"/> FFTW spent planning (zero when it reused a plan).</summary>
    public TimeSpan Planning { get; init; }
}

/// <summary>
/// Runs one job with DuckDB: the input Parquet file is the view <c>input</c>, a <c>.sql</c> task is
/// one read-only query over it, a <c>.task</c> file names a built-in column operation. The result
/// goes to <c>&lt;task&gt;_ansver.parquet</c> beside the input.
/// </summary>
/// <remarks>
/// Each job gets its own in-memory DuckDB whose file access is limited to the job's folder
/// (<c>allowed_directories</c> + <c>enable_external_access=false</c>) and whose configuration is
/// then locked, so a task cannot read elsewhere, load extensions or undo the limits.
/// </remarks>
internal sealed class JobExecutor(DataRoots roots, IOptions<JobsOptions> options, PythonTaskRunner? python = null)
{
    internal const string ResultSuffix = "_ansver.parquet";

    /// <summary>
    /// Parquet.Net pools its streams (RecyclableMemoryStream) and by default keeps up to 80 MB of
    /// them after a job; jobs are rare and large, so the pool gives its memory back instead.
    /// </summary>
    internal static readonly ParquetOptions WriterOptions = new() { MaximumSmallPoolFreeBytes = 1 << 20, MaximumLargePoolFreeBytes = 1 << 20 };

    public JobOutcome Execute(JobRequest request, CancellationToken cancellationToken) => Execute(request, cancellationToken, out _);

    public JobOutcome Execute(JobRequest request, CancellationToken cancellationToken, out JobPhaseTimes times)
    {
        times = default;
        if (!roots.TryResolveDirectory(request.Directory, out string directory, out string error)
            || !DataRoots.TryResolveFile(directory, request.Base, "Base", mustExist: true, out string input, out error)
            || !DataRoots.TryResolveFile(directory, request.File, "File", mustExist: true, out string taskFile, out error))
        {
            return JobOutcome.Failed(error);
        }

        string extension = Path.GetExtension(request.File!).ToLowerInvariant();
        if (extension == ".py")
        {
            return python is null
                ? JobOutcome.Failed($"File '{request.File}' is a Python task, which this server cannot run.")
                : python.Run(directory, input, taskFile, request.File!, cancellationToken);
        }

        if (extension is not (".sql" or ".task"))
        {
            return JobOutcome.Failed($"File '{request.File}' is neither a .sql query, a .task operation nor a .py task.");
        }

        if (new FileInfo(taskFile).Length > options.Value.MaxTaskFileSize)
        {
            return JobOutcome.Failed($"File '{request.File}' is larger than {options.Value.MaxTaskFileSize} bytes.");
        }

        string resultName = Path.GetFileNameWithoutExtension(request.File!) + ResultSuffix;
        try
        {
            JobOutputFile.CheckTarget(directory, resultName);
            string text = File.ReadAllText(taskFile);
            using DuckDBConnection db = OpenSandbox(directory, options.Value);
            Execute(db, $"CREATE VIEW input AS SELECT * FROM read_parquet({Literal(input)})", cancellationToken);
            JobTask task = default;
            if (extension == ".sql" ? !IsSingleQuery(db, text, out error) : !JobTask.TryParse(text, out task, out error))
            {
                return JobOutcome.Failed($"File '{request.File}': {error}");
            }

            using JobOutputFile output = JobOutputFile.Create(directory, resultName);
            var watch = Stopwatch.StartNew();
            if (extension == ".sql")
            {
                Execute(db, $"COPY (\n{text.TrimEnd().TrimEnd(';')}\n) TO {Literal(output.TemporaryPath)} (FORMAT PARQUET)", cancellationToken);
                times = new JobPhaseTimes(TimeSpan.Zero, watch.Elapsed, TimeSpan.Zero);
            }
            else if (task.Operation == ColumnOperation.Stats)
            {
                string c = Identifier(task.Column);
                Execute(db, $"""
                    COPY (SELECT {Literal(task.Column)} AS "column", count({c}) AS count, avg({c}) AS mean, stddev_samp({c}) AS stddev,
                          min({c}) AS min, quantile_cont({c}, 0.25) AS q1, median({c}) AS median, quantile_cont({c}, 0.75) AS q3, max({c}) AS max
                          FROM input) TO {Literal(output.TemporaryPath)} (FORMAT PARQUET)
                    """, cancellationToken);
                times = new JobPhaseTimes(TimeSpan.Zero, watch.Elapsed, TimeSpan.Zero);
            }
            else
            {
                times = RunFft(db, task.Column, output, options.Value, cancellationToken);
            }

            output.Commit();
            return JobOutcome.Done(resultName);
        }
        catch (DbException ex)
        {
            string why = FirstLine(ex.Message);
            return JobOutcome.Failed(why.Contains("Out of Memory", StringComparison.OrdinalIgnoreCase)
                ? $"File '{request.File}' failed: {why} (a job's memory is limited by Jobs:MaxJobMemory, {options.Value.MaxJobMemory} bytes)"
                : $"File '{request.File}' failed: {why}");
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or UnauthorizedAccessException)
        {
            return JobOutcome.Failed($"File '{request.File}' failed: {ex.Message}");
        }
    }

    /// <summary>
    /// The FFT of one column, unscaled like <c>numpy.fft.fft</c>: the column is streamed from DuckDB
    /// into a <see cref="Spectrum"/>, transformed in place (<see cref="SpectrumTransform"/>: FFTW's
    /// real-input FFT, or MathNet.Numerics without it) and written row group by row group
    /// (<see cref="SpectrumFile"/>).
    /// </summary>
    private static JobPhaseTimes RunFft(DuckDBConnection db, string column, JobOutputFile output, JobsOptions options, CancellationToken cancellationToken)
    {
        var watch = Stopwatch.StartNew();
        long count = Convert.ToInt64(Scalar(db, "SELECT count(*) FROM input"), System.Globalization.CultureInfo.InvariantCulture);
        long required = SpectrumTransform.RequiredBytes(count);
        if (count > Spectrum.MaxLength || required > options.MaxJobMemory)
        {
            throw new InvalidDataException(
                $"Column '{column}' has {count} samples; their FFT needs about {required >> 20} MiB ({SpectrumTransform.BytesPerSample(count)} bytes per sample with {SpectrumTransform.Engine}), more than Jobs:MaxJobMemory ({options.MaxJobMemory} bytes) allows.");
        }

        var spectrum = new Spectrum((int)count);
        ReadColumn(db, column, spectrum.Samples, cancellationToken);
        TimeSpan read = watch.Elapsed;

        cancellationToken.ThrowIfCancellationRequested();
        TimeSpan planning = SpectrumTransform.Forward(spectrum, options.ThreadsPerJob);
        TimeSpan compute = watch.Elapsed - read;

        SpectrumFile.Write(spectrum, output.OpenWrite(), options.ThreadsPerJob, cancellationToken);
        return new JobPhaseTimes(read, compute, watch.Elapsed - read - compute) { Planning = planning };
    }

    /// <summary>
    /// Streams the column as doubles into <paramref name="samples"/>: DuckDB's streaming mode hands
    /// over one vector at a time instead of first materialising the whole result (which doubled
    /// the memory and the time of the read).
    /// </summary>
    private static void ReadColumn(DuckDBConnection db, string column, Span<double> samples, CancellationToken cancellationToken)
    {
        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = $"SELECT CAST({Identifier(column)} AS DOUBLE) FROM input";
        command.UseStreamingMode = true;
        cancellationToken.ThrowIfCancellationRequested();
        using CancellationTokenRegistration interrupt = cancellationToken.Register(command.Cancel);
        using DbDataReader reader = command.ExecuteReader();
        int i = 0;
        while (reader.Read())
        {
            if (reader.IsDBNull(0))
            {
                throw new InvalidDataException($"Column '{column}' has a NULL at row {i}; the FFT needs every sample.");
            }

            if (i == samples.Length)
            {
                throw new InvalidDataException($"Column '{column}' has more rows than it had a moment ago; the input changed during the job.");
            }

            samples[i++] = reader.GetDouble(0);
        }

        if (i != samples.Length)
        {
            throw new InvalidDataException($"Column '{column}' has fewer rows than it had a moment ago; the input changed during the job.");
        }
    }

    /// <summary>
    /// A private in-memory DuckDB for one job: <paramref name="options"/>' threads and memory limit,
    /// no spilling to disk, file access limited to <paramref name="directory"/>, configuration locked.
    /// </summary>
    internal static DuckDBConnection OpenSandbox(string directory, JobsOptions options)
    {
        // Set at open, so DuckDB never starts a thread per core first.
        var db = new DuckDBConnection($"DataSource=:memory:;threads={options.ThreadsPerJob};memory_limit={Math.Max(1, options.MaxJobMemory >> 10)}KiB");
        try
        {
            db.Open();
            Execute(db, $"SET allowed_directories = [{Literal(directory + Path.DirectorySeparatorChar)}]");
            Execute(db, "SET autoinstall_known_extensions = false");
            Execute(db, "SET autoload_known_extensions = false");
            // No spilling to disk: the memory limit is the limit (and nothing lands in the server's working folder).
            Execute(db, "SET temp_directory = ''");
            Execute(db, "SET enable_external_access = false");
            Execute(db, "SET lock_configuration = true");
            return db;
        }
        catch
        {
            db.Dispose();
            throw;
        }
    }

    /// <summary>Whether <paramref name="sql"/> is exactly one SELECT (or WITH … SELECT) statement, by DuckDB's own parser.</summary>
    private static bool IsSingleQuery(DuckDBConnection db, string sql, out string error)
    {
        string json = (string)Scalar(db, "SELECT json_serialize_sql($sql::VARCHAR)", ("sql", sql))!;
        using var parsed = JsonDocument.Parse(json);
        if (parsed.RootElement.GetProperty("error").GetBoolean())
        {
            string message = parsed.RootElement.TryGetProperty("error_message", out JsonElement m) ? m.GetString() ?? "" : "";
            error = message.Contains("Only SELECT", StringComparison.Ordinal)
                ? "only a single read-only query (SELECT or WITH … SELECT) is allowed."
                : $"bad SQL: {FirstLine(message)}";
            return false;
        }

        if (parsed.RootElement.GetProperty("statements").GetArrayLength() != 1)
        {
            error = "only a single read-only query (SELECT or WITH … SELECT) is allowed.";
            return false;
        }

        error = string.Empty;
        return true;
    }

    private static void Execute(DuckDBConnection db, string sql, CancellationToken cancellationToken = default)
    {
        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = sql;
        cancellationToken.ThrowIfCancellationRequested();

        // DuckDB's interrupt: the query stops within milliseconds and throws OperationCanceledException.
        using CancellationTokenRegistration interrupt = cancellationToken.Register(command.Cancel);
        command.ExecuteNonQuery();
    }

    internal static object? Scalar(DuckDBConnection db, string sql, params (string Name, object Value)[] parameters)
    {
        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = sql;
        foreach ((string name, object value) in parameters)
        {
            command.Parameters.Add(new DuckDBParameter(name, value));
        }

        return command.ExecuteScalar();
    }

    internal static string Literal(string text) => "'" + text.Replace("'", "''", StringComparison.Ordinal) + "'";

    internal static string Identifier(string name) => "\"" + name.Replace("\"", "\"\"", StringComparison.Ordinal) + "\"";

    private static string FirstLine(string message)
    {
        int newline = message.IndexOf('\n', StringComparison.Ordinal);
        return (newline < 0 ? message : message[..newline]).Trim();
    }
}
