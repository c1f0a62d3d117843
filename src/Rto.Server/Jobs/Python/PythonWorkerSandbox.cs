using System.Diagnostics;

namespace Rto.Server.Jobs.Python;

/// <summary>
/// The command line that starts a Python worker: under bubblewrap (when available) in new
/// namespaces with no network, no capabilities, a read-only view of the system and the job's
/// folder as the only writable place; otherwise the interpreter directly.
/// </summary>
internal sealed partial class PythonWorkerSandbox(PythonJobOptions options, ILogger logger)
{
    /// <summary>Where the staging folder appears inside the sandbox.</summary>
    public const string StagingMount = "/rto-job";

    private readonly Lazy<(string? Bwrap, string Reason)> _bubblewrap = new(() => Probe(logger, options.Sandbox));

    /// <summary>Whether workers run under bubblewrap; null with the reason when they cannot although the settings require it.</summary>
    public bool UsesBubblewrap(out string? refusal)
    {
        refusal = null;
        if (options.Sandbox == PythonSandbox.None)
        {
            return false;
        }

        (string? bwrap, string reason) = _bubblewrap.Value;
        if (bwrap is null && options.Sandbox == PythonSandbox.Bubblewrap)
        {
            refusal = $"Jobs:Python:Sandbox is Bubblewrap, but bubblewrap cannot run here: {reason}";
        }

        return bwrap is not null;
    }

    /// <summary>The process start for a worker of the job in <paramref name="directory"/> with its input staged in <paramref name="staging"/>.</summary>
    public ProcessStartInfo StartInfo(string directory, string staging, bool sandboxed)
    {
        string python = ResolveExecutable(options.Executable);
        string stagingSeen = sandboxed ? StagingMount : staging;
        var info = new ProcessStartInfo
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = directory,
        };
        info.Environment.Clear();
        foreach ((string name, string value) in (ReadOnlySpan<(string, string)>)[
            ("PATH", "/usr/local/bin:/usr/bin:/bin"), ("LANG", "C.UTF-8"), ("LC_ALL", "C.UTF-8"), ("HOME", stagingSeen),
            // Few malloc arenas and single-threaded BLAS: the address-space limit is for data, not for per-thread reserves.
            ("MALLOC_ARENA_MAX", "2"), ("OMP_NUM_THREADS", "1"), ("OPENBLAS_NUM_THREADS", "1"), ("MKL_NUM_THREADS", "1")])
        {
            info.Environment[name] = value;
        }

        if (sandboxed)
        {
            info.FileName = _bubblewrap.Value.Bwrap!;
            foreach (string argument in BubblewrapArguments(directory, staging, python))
            {
                info.ArgumentList.Add(argument);
            }

            info.ArgumentList.Add("--");
        }
        else
        {
            info.FileName = python;
        }

        if (sandboxed)
        {
            info.ArgumentList.Add(python);
        }

        // -I: no user site, no PYTHON* variables, no script folder on sys.path; -B: no .pyc files in the job's folder.
        foreach (string argument in (string[])["-I", "-B", "-u", Path.Combine(stagingSeen, "rto_job_worker.py"), Path.Combine(stagingSeen, "job.json")])
        {
            info.ArgumentList.Add(argument);
        }

        return info;
    }

    private List<string> BubblewrapArguments(string directory, string staging, string python)
    {
        List<string> args =
        [
            "--die-with-parent", "--new-session", "--unshare-all", "--cap-drop", "ALL", "--hostname", "rto-job",
            "--ro-bind", "/usr", "/usr", "--ro-bind", "/etc", "/etc", "--proc", "/proc", "--dev", "/dev",
        ];

        // A worker talking to a Dask cluster needs the network; every other worker has none.
        if (options.DaskScheduler.Length > 0)
        {
            args.Add("--share-net");
        }

        // Merged /usr systems have these as links into /usr; older ones as folders.
        foreach (string top in (string[])["/bin", "/sbin", "/lib", "/lib32", "/lib64", "/libx32"])
        {
            var info = new DirectoryInfo(top);
            if (info.LinkTarget is { } target)
            {
                args.AddRange(["--symlink", target, top]);
            }
            else if (info.Exists)
            {
                args.AddRange(["--ro-bind", top, top]);
            }
        }

        // An interpreter outside /usr (a virtual environment, pyenv): its installation folder too.
        string real = DataRoots.RealPath(python);
        if (!real.StartsWith("/usr/", StringComparison.Ordinal) && Path.GetDirectoryName(Path.GetDirectoryName(real)) is { Length: > 1 } prefix)
        {
            args.AddRange(["--ro-bind", prefix, prefix]);
        }

        foreach (string path in options.ReadOnlyPaths.Where(Path.Exists))
        {
            args.AddRange(["--ro-bind", path, path]);
        }

        args.AddRange(["--ro-bind", staging, StagingMount, "--bind", directory, directory]);

        // Then nothing but the job's folder is writable: not the sandbox's own root, not /dev.
        args.AddRange(["--remount-ro", "/dev", "--remount-ro", "/", "--chdir", directory]);
        return args;
    }

    private static string ResolveExecutable(string executable)
    {
        if (executable.Contains('/', StringComparison.Ordinal))
        {
            return Path.GetFullPath(executable);
        }

        foreach (string folder in (Environment.GetEnvironmentVariable("PATH") ?? "/usr/bin:/bin").Split(':', StringSplitOptions.RemoveEmptyEntries))
        {
            string candidate = Path.Combine(folder, executable);
            if (File.Exists(candidate))
            {
                return candidate;
            }
        }

        throw new FileNotFoundException($"Jobs:Python:Executable '{executable}' is not on the PATH.");
    }

    /// <summary>Finds bwrap and checks that it can create its namespaces here (containers and systemd units may forbid them).</summary>
    private static (string? Bwrap, string Reason) Probe(ILogger logger, PythonSandbox mode)
    {
        string? bwrap = ((string[])["/usr/bin/bwrap", "/usr/local/bin/bwrap", "/bin/bwrap"]).FirstOrDefault(File.Exists);
        string reason;
        if (bwrap is null)
        {
            reason = "bwrap is not installed (Debian: apt-get install bubblewrap)";
        }
        else
        {
            var info = new ProcessStartInfo(bwrap) { RedirectStandardError = true, RedirectStandardOutput = true, UseShellExecute = false };
            foreach (string argument in (string[])["--unshare-all", "--die-with-parent", "--cap-drop", "ALL", "--ro-bind", "/", "/", "true"])
            {
                info.ArgumentList.Add(argument);
            }

            try
            {
                using Process probe = Process.Start(info)!;
                string error = probe.StandardError.ReadToEnd();
                if (probe.WaitForExit(10_000) && probe.ExitCode == 0)
                {
                    LogSandbox(logger, bwrap);
                    return (bwrap, string.Empty);
                }

                reason = $"{bwrap} could not create its namespaces: {error.Trim()}";
            }
            catch (System.ComponentModel.Win32Exception ex)
            {
                reason = $"{bwrap} could not be started: {ex.Message}";
            }
        }

        if (mode == PythonSandbox.Auto)
        {
            LogNoSandbox(logger, reason);
        }

        return (null, reason);
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Python jobs run under bubblewrap ({Bwrap}): no network, the job's folder the only writable place")]
    private static partial void LogSandbox(ILogger logger, string bwrap);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Python jobs run WITHOUT a sandbox (only CPU, memory and file-size limits): {Reason}")]
    private static partial void LogNoSandbox(ILogger logger, string reason);
}
