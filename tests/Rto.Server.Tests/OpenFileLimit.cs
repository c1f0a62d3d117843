using System.Runtime.InteropServices;

namespace Rto.Server.Tests;

/// <summary>
/// The number of open files this process may have (<c>ulimit -n</c>, RLIMIT_NOFILE): each socket
/// is one. A test that opens thousands of connections raises the soft limit toward the hard one,
/// or fails saying why, instead of failing later with "Too many open files".
/// </summary>
internal static class OpenFileLimit
{
    /// <summary>Makes sure at least <paramref name="needed"/> files can be open at once; returns the soft limit now in force.</summary>
    public static ulong Ensure(ulong needed)
    {
        if (!OperatingSystem.IsLinux())
        {
            Assert.Fail("The many-connection tests read and raise RLIMIT_NOFILE through Linux's getrlimit/setrlimit; run them on Linux.");
        }

        if (NativeMethods.getrlimit(RlimitNofile, out Rlimit limit) != 0)
        {
            Assert.Fail($"getrlimit(RLIMIT_NOFILE) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        if (limit.Current >= needed)
        {
            return limit.Current;
        }

        if (limit.Maximum < needed)
        {
            Assert.Fail($"This test needs {needed} open files, but the hard limit (ulimit -Hn) is {limit.Maximum}: raise it (e.g. `ulimit -Hn {needed}` as root, LimitNOFILE= under systemd, --ulimit nofile= for docker) and run again.");
        }

        var raised = new Rlimit { Current = needed, Maximum = limit.Maximum };
        if (NativeMethods.setrlimit(RlimitNofile, ref raised) != 0)
        {
            Assert.Fail($"This test needs {needed} open files; the soft limit is {limit.Current} and raising it to {needed} (hard limit {limit.Maximum}) failed: errno {Marshal.GetLastPInvokeError()}.");
        }

        return needed;
    }

    private const int RlimitNofile = 7;

    [StructLayout(LayoutKind.Sequential)]
    private struct Rlimit
    {
        public ulong Current;
        public ulong Maximum;
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // Blittable signatures: DllImport needs no marshalling and no unsafe code here.
        [DllImport("libc", ExactSpelling = true, SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int getrlimit(int resource, out Rlimit limit);

        [DllImport("libc", ExactSpelling = true, SetLastError = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int setrlimit(int resource, ref Rlimit limit);
#pragma warning restore SYSLIB1054
    }
}
