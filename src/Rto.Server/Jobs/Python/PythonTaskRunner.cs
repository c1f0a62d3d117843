using System.Diagnostics;
using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.Options;

namespace Rto.Server.Jobs.Python;

/// <summary>
/// Runs a Python task file (<c>main(ddf)</c>, as the original server ran them) in a worker process
/// of its own: the input staged by <see cref="PythonTaskInput"/>, the worker started by
/// <see cref="PythonWorkerSandbox"/>, its result written by <see cref="PythonResultReader"/>. The
/// worker is killed when it outlives <see cref="PythonJobOptions.Timeout"/> or the job is cancelled.
/// </summary>
internal sealed partial class PythonTaskRunner
{
    private const int TracebackLines = 12;
    private const int StderrLines = 40;
    private const int ChunkBytes = 32 << 20;

    private readonly JobsOptions _options;
    private readonly PythonWorkerSandbox _sandbox;
    private readonly ILogger<PythonTaskRunner> _logger;

    public PythonTaskRunner(IOptions<JobsOptions> options, ILogger<PythonTaskRunner> logger)
    {
        _options = options.Value;
        _logger = logger;
        _sandbox = new PythonWorkerSandbox(_options.Python, logger);
    }

    public JobOutcome Run(string directory, string input, string taskFile, string fileName, CancellationToken cancellationToken)
    {
        PythonJobOptions python = _options.Python;
        if (!python.Enabled)
        {
            return JobOutcome.Failed(
                $"File '{fileName}' is a Python task, and Python tasks are off (Jobs:Python:Enabled is false). They are off by default because a " +
                "Python task runs the sender's own code on this server; set Jobs:Python:Enabled=true to run them, each in a sandboxed worker " +
                "process limited in time, CPU and memory (see docs/jobs.md).");
        }

        bool sandboxed = _sandbox.UsesBubblewrap(out string? refusal);
        if (refusal is not null)
        {
            return JobOutcome.Failed(refusal);
        }

        string stem = Path.GetFileNameWithoutExtension(fileName);
        string staging = CreateStaging(python.ScratchDirectory);
        try
        {
            PythonTaskInput.Staged staged;
            using (var db = JobExecutor.OpenSandbox(directory, _options))
            {
                staged = PythonTaskInput.Write(db, input, staging, python.PartitionSize, cancellationToken);
            }

            WriteWorker(staging, taskFile, staged);
            return RunWorker(directory, staging, stem, fileName, sandboxed, cancellationToken);
        }
        catch (Exception ex) when (ex is InvalidDataException or IOException or UnauthorizedAccessException or System.ComponentModel.Win32Exception)
        {
            return JobOutcome.Failed($"File '{fileName}' failed: {ex.Message}");
        }
        catch (System.Data.Common.DbException ex)
        {
            return JobOutcome.Failed($"File '{fileName}' failed reading its input: {ex.Message.Split('\n')[0]}");
        }
        finally
        {
            try
            {
                Directory.Delete(staging, recursive: true);
            }
            catch (IOException ex)
            {
                LogStagingLeft(staging, ex.Message);
            }
        }
    }

    private JobOutcome RunWorker(string directory, string staging, string stem, string fileName, bool sandboxed, CancellationToken cancellationToken)
    {
        PythonJobOptions python = _options.Python;
        using Process worker = Process.Start(_sandbox.StartInfo(directory, staging, sandboxed))
            ?? throw new IOException($"Jobs:Python:Executable '{python.Executable}' could not be started.");
        worker.StandardInput.Close();
        var stderr = new Queue<string>();
        worker.ErrorDataReceived += (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (stderr)
            {
                stderr.Enqueue(e.Data);
                if (stderr.Count > StderrLines)
                {
                    stderr.Dequeue();
                }
            }
        };
        worker.BeginErrorReadLine();

        using var limit = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        limit.CancelAfter(python.Timeout);
        using CancellationTokenRegistration kill = limit.Token.Register(() => Kill(worker));
        long started = Environment.TickCount64;
        string? result = null, error = null;
        try
        {
            result = new PythonResultReader(worker.StandardOutput.BaseStream, directory, stem, python.MaxResultSize).Read(out error);
        }
        catch (Exception ex) when (ex is IOException or InvalidDataException or JsonException)
        {
            error = limit.IsCancellationRequested ? null : ex.Message;
        }
        finally
        {
            Kill(worker);
            worker.WaitForExit();
        }

        cancellationToken.ThrowIfCancellationRequested();
        LogWorkerEnded(fileName, worker.ExitCode, Environment.TickCount64 - started);
        if (limit.IsCancellationRequested)
        {
            return JobOutcome.Failed($"File '{fileName}' ran longer than Jobs:Python:Timeout ({python.Timeout}); its worker was killed.");
        }

        if (result is not null)
        {
            return JobOutcome.Done(result);
        }

        if (error is not null)
        {
            return JobOutcome.Failed($"File '{fileName}' failed:\n{LastLines(error, TracebackLines)}");
        }

        string output;
        lock (stderr)
        {
            output = string.Join('\n', stderr);
        }

        return JobOutcome.Failed($"File '{fileName}': the Python worker ended without a result ({ExitDescription(worker.ExitCode)}).{(output.Length > 0 ? "\n" + LastLines(output, TracebackLines) : string.Empty)}");
    }

    private void WriteWorker(string staging, string taskFile, PythonTaskInput.Staged staged)
    {
        using (Stream source = typeof(PythonTaskRunner).Assembly.GetManifestResourceStream("Rto.Server.Jobs.Python.rto_job_worker.py")
            ?? throw new InvalidOperationException("The Python worker script is missing from the server."))
        using (FileStream target = new(Path.Combine(staging, "rto_job_worker.py"), FileMode.CreateNew))
        {
            source.CopyTo(target);
        }

        PythonJobOptions python = _options.Python;
        using FileStream file = new(Path.Combine(staging, "job.json"), FileMode.CreateNew);
        using var json = new Utf8JsonWriter(file);
        json.WriteStartObject();
        json.WriteString("task", taskFile);
        json.WriteStartArray("columns");
        foreach (StagedColumn column in staged.Columns)
        {
            json.WriteStartObject();
            json.WriteString("name", column.Name);
            json.WriteString("type", column.Type);
            json.WriteBoolean("nulls", column.HasNulls);
            if (column.TimeZone is not null)
            {
                json.WriteString("tz", column.TimeZone);
            }

            json.WriteEndObject();
        }

        json.WriteEndArray();
        json.WriteStartArray("partitions");
        foreach (long rows in staged.Partitions)
        {
            json.WriteNumberValue(rows);
        }

        json.WriteEndArray();
        if (staged.PandasIndexColumns is not null)
        {
            json.WritePropertyName("indexColumns");
            json.WriteRawValue(staged.PandasIndexColumns);
        }

        json.WriteString("scheduler", python.DaskScheduler);
        json.WriteString("resultFormat", python.ResultFormat == PythonResultFormat.Original ? "original" : "tables");
        json.WriteNumber("chunkBytes", ChunkBytes);
        json.WriteStartObject("limits");
        json.WriteNumber("memory", python.MaxMemory);
        json.WriteNumber("cpuSeconds", (long)Math.Ceiling(python.CpuTime.TotalSeconds));
        json.WriteNumber("fileSize", python.MaxResultSize);
        json.WriteNumber("resultSize", python.MaxResultSize);
        json.WriteEndObject();
        json.WriteEndObject();
    }

    /// <summary>A private folder for one job's staged input: created exclusively, readable by the server's user only.</summary>
    private static string CreateStaging(string scratch)
    {
        Directory.CreateDirectory(scratch);
        string staging = Path.Combine(scratch, Guid.NewGuid().ToString("N"));
        if (OperatingSystem.IsWindows())
        {
            Directory.CreateDirectory(staging);
        }
        else
        {
            Directory.CreateDirectory(staging, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }

        return staging;
    }

    private static void Kill(Process worker)
    {
        try
        {
            if (!worker.HasExited)
            {
                worker.Kill(entireProcessTree: true);
            }
        }
        catch (InvalidOperationException)
        {
            // It ended meanwhile.
        }
    }

    private static string ExitDescription(int code) => code switch
    {
        > 128 and < 160 when RuntimeInformation.IsOSPlatform(OSPlatform.Linux) => $"killed by signal {code - 128}{(code - 128) switch
        {
            9 => " (SIGKILL: the CPU time limit Jobs:Python:CpuTime, or the system out of memory)",
            24 => " (SIGXCPU: the CPU time limit Jobs:Python:CpuTime)",
            11 => " (SIGSEGV)",
            _ => string.Empty,
        }}",
        _ => $"exit code {code.ToString(CultureInfo.InvariantCulture)}",
    };

    private static string LastLines(string text, int count)
    {
        string[] lines = text.TrimEnd().Split('\n');
        var builder = new StringBuilder();
        if (lines.Length > count)
        {
            builder.Append("…\n");
        }

        builder.AppendJoin('\n', lines.Skip(Math.Max(0, lines.Length - count)));
        string result = builder.ToString();
        return result.Length <= 4096 ? result : "…" + result[^4095..];
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Python worker for {File} ended with {ExitCode} after {ElapsedMs} ms")]
    private partial void LogWorkerEnded(string file, int exitCode, long elapsedMs);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not remove the Python job's staging folder {Staging}: {Reason}")]
    private partial void LogStagingLeft(string staging, string reason);
}
