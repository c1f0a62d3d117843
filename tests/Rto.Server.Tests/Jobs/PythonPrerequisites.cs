using System.Diagnostics;

namespace Rto.Server.Tests.Jobs;

/// <summary>
/// What the Python task tests need from the machine: Debian's python3 with pandas, dask and
/// distributed, and bubblewrap. .ci/run installs them; a test without them fails and says which
/// package is missing, never skips.
/// </summary>
internal static class PythonPrerequisites
{
    public const string Python = "/usr/bin/python3";

    private static readonly Lazy<string?> s_missing = new(Check);

    public static void Require()
    {
        if (s_missing.Value is { } missing)
        {
            Assert.Fail(missing + " .ci/run installs it (apt-get install python3-dask python3-pandas python3-distributed bubblewrap).");
        }
    }

    /// <summary>Runs <see cref="Python"/> with <paramref name="arguments"/> and returns its stdout; fails the test on a non-zero exit.</summary>
    public static string RunPython(params string[] arguments)
    {
        var info = new ProcessStartInfo(Python) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        using Process process = Process.Start(info)!;
        Task<string> error = process.StandardError.ReadToEndAsync();
        string output = process.StandardOutput.ReadToEnd();
        Assert.IsTrue(process.WaitForExit(60_000), "python3 finished");
        Assert.AreEqual(0, process.ExitCode, error.Result);
        return output;
    }

    private static string? Check()
    {
        if (!File.Exists(Python))
        {
            return $"{Python} is missing (Debian package python3).";
        }

        foreach ((string module, string package) in (ReadOnlySpan<(string, string)>)[("numpy", "python3-numpy"), ("pandas", "python3-pandas"), ("dask.dataframe", "python3-dask"), ("distributed", "python3-distributed")])
        {
            var info = new ProcessStartInfo(Python, ["-c", $"import {module}"]) { RedirectStandardError = true, UseShellExecute = false };
            using Process process = Process.Start(info)!;
            string error = process.StandardError.ReadToEnd();
            process.WaitForExit();
            if (process.ExitCode != 0)
            {
                return $"{Python} cannot import {module} (Debian package {package}): {error.Trim().Split('\n')[^1]}.";
            }
        }

        return File.Exists("/usr/bin/bwrap") ? null : "bwrap is missing (Debian package bubblewrap).";
    }
}
