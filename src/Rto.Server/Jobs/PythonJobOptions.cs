namespace Rto.Server.Jobs;

/// <summary>How a Python task's worker is isolated.</summary>
public enum PythonSandbox
{
    /// <summary>bubblewrap when it is installed and can create namespaces here; otherwise limits only (a warning is logged).</summary>
    Auto,

    /// <summary>Always bubblewrap; Python jobs are refused when it cannot run.</summary>
    Bubblewrap,

    /// <summary>No namespaces: the resource limits and the working folder only.</summary>
    None,
}

/// <summary>Which results become a Parquet file.</summary>
public enum PythonResultFormat
{
    /// <summary>DataFrames, Series and 1-D/2-D arrays (complex values as real and imaginary columns); anything else is text.</summary>
    Tables,

    /// <summary>
    /// What the original server wrote with pandas 1.5 and pyarrow: only what <c>pandas.DataFrame(result)</c>
    /// turns into a frame with string column names and no complex columns; everything else, arrays
    /// included, as <c>str(result)</c>.
    /// </summary>
    Original,
}

/// <summary>Options of Python task files (configuration section <c>Jobs:Python</c>).</summary>
public sealed class PythonJobOptions
{
    /// <summary>
    /// Whether <c>.py</c> task files run. Off by default: a Python task is the sender's own code,
    /// run on this machine (in a sandboxed, limited worker process).
    /// </summary>
    public bool Enabled { get; set; }

    /// <summary>The Python interpreter of the workers (it needs pandas; dask for Dask DataFrames).</summary>
    public string Executable { get; set; } = File.Exists("/usr/bin/python3") ? "/usr/bin/python3" : "python3";

    /// <summary>The longest a Python task may run (wall clock) before its worker is killed.</summary>
    public TimeSpan Timeout { get; set; } = TimeSpan.FromMinutes(5);

    /// <summary>The CPU time a worker may use (all its threads together) before it is stopped.</summary>
    public TimeSpan CpuTime { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>The address space a worker may map, in bytes (RLIMIT_AS); allocations beyond fail with MemoryError.</summary>
    public long MaxMemory { get; set; } = 2L << 30;

    /// <summary>The largest result the server writes for a Python task, and the largest file the task may write, in bytes.</summary>
    public long MaxResultSize { get; set; } = 1L << 30;

    /// <summary>
    /// The input's partitioning, as the original's <c>dask.dataframe.read_parquet</c> (dask 2023.6.1)
    /// did it: a file whose row groups hold at most this many bytes (uncompressed) is one partition;
    /// a larger one is cut into runs of row groups of at most this size. 0: one partition per row group.
    /// </summary>
    public long PartitionSize { get; set; } = 128L << 20;

    /// <summary>An existing Dask scheduler (<c>tcp://host:8786</c>) to run <c>main</c> against; empty: a local Dask in the worker.</summary>
    public string DaskScheduler { get; set; } = string.Empty;

    /// <summary>How the worker is isolated.</summary>
    public PythonSandbox Sandbox { get; set; } = PythonSandbox.Auto;

    /// <summary>Which results become a Parquet file, and which text.</summary>
    public PythonResultFormat ResultFormat { get; set; } = PythonResultFormat.Tables;

    /// <summary>Where the server stages a job's input for its worker (a private folder per job, removed afterwards).</summary>
    public string ScratchDirectory { get; set; } = Path.Combine(Path.GetTempPath(), "rto-python-jobs");

    /// <summary>Further folders the sandboxed worker may read (e.g. a virtual environment); the job's folder is always writable.</summary>
    public List<string> ReadOnlyPaths { get; set; } = [];

    internal void Validate()
    {
        if (string.IsNullOrWhiteSpace(Executable))
        {
            throw new InvalidOperationException("Jobs:Python:Executable must name a Python interpreter.");
        }

        if (Timeout <= TimeSpan.Zero || CpuTime < TimeSpan.FromSeconds(1))
        {
            throw new InvalidOperationException("Jobs:Python:Timeout must be positive and Jobs:Python:CpuTime at least one second.");
        }

        if (MaxMemory < 256L << 20)
        {
            throw new InvalidOperationException($"Jobs:Python:MaxMemory must be at least 256 MiB (268435456): Python with pandas needs that much address space; not {MaxMemory}.");
        }

        if (MaxResultSize < 1024 || PartitionSize < 0)
        {
            throw new InvalidOperationException("Jobs:Python:MaxResultSize must be at least 1024 and Jobs:Python:PartitionSize not negative.");
        }

        if (DaskScheduler.Length > 0 && !DaskScheduler.Contains("://", StringComparison.Ordinal))
        {
            throw new InvalidOperationException($"Jobs:Python:DaskScheduler '{DaskScheduler}' must be an address such as tcp://10.0.0.5:8786.");
        }
    }
}
