using System.Runtime.InteropServices;
using System.Text;

namespace Rto.Server.Metrics;

/// <summary>
/// fsync of a directory, so that a file just created or renamed in it (a new segment, a snapshot
/// moved into place) is still there after a power loss. .NET has no API for it; on Unix it is
/// open(2) + fsync(2) of the directory. Best effort: where that is not possible it does nothing.
/// </summary>
internal static class DirectorySync
{
    public static void Flush(string directory)
    {
        if (!OperatingSystem.IsLinux() && !OperatingSystem.IsMacOS())
        {
            return;
        }

        if (s_unavailable)
        {
            return;
        }

        byte[] path = Encoding.UTF8.GetBytes(directory + "\0");
        try
        {
            int descriptor = NativeMethods.open(path, 0 /* O_RDONLY */);
            if (descriptor < 0)
            {
                return;
            }

            try
            {
                _ = NativeMethods.fsync(descriptor);
            }
            finally
            {
                _ = NativeMethods.close(descriptor);
            }
        }
        catch (Exception ex) when (ex is DllNotFoundException or EntryPointNotFoundException)
        {
            s_unavailable = true;
        }
    }

    private static bool s_unavailable;

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // Blittable signatures: DllImport needs no marshalling and no unsafe code here.
        [DllImport("libc", ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int open(byte[] path, int flags);

        [DllImport("libc", ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int fsync(int descriptor);

        [DllImport("libc", ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int close(int descriptor);
#pragma warning restore SYSLIB1054
    }
}
