using System.Runtime.InteropServices;

namespace Rto.Server.Jobs;

/// <summary>
/// Runs a job on a thread of its own, never on the thread pool (a job blocks for seconds to
/// minutes; on the pool it would starve every endpoint's continuations), at a lower scheduling
/// priority that the DuckDB threads and Python workers it starts inherit. Afterwards, memory the
/// job freed is given back to the operating system.
/// </summary>
internal static class JobThread
{
    // Jobs that allocated less than this on the managed heap leave the GC to its own schedule. An FFT
    // job allocates about 8 bytes per sample (its pinned spectrum buffer), so 2 M samples already
    // leave 16 MiB the GC would otherwise keep until its next collection.
    private const long CompactAfterBytes = 16L << 20;
    private const int PrioProcess = 0;
    private const long SysGettid = 186; // x86_64; other architectures use libc's gettid below.

    private static int s_trimUnavailable;

    /// <summary>Runs <paramref name="work"/> on a new background thread at niceness <paramref name="nice"/>.</summary>
    public static Task<T> Run<T>(Func<T> work, int nice, string name)
    {
        var done = new TaskCompletionSource<T>(TaskCreationOptions.RunContinuationsAsynchronously);
        var thread = new Thread(() =>
        {
            Lower(nice);
            long allocated = GC.GetTotalAllocatedBytes();
            T result;
            try
            {
                result = work();
            }
            catch (Exception ex)
            {
                GiveMemoryBack(GC.GetTotalAllocatedBytes() - allocated);
                done.SetException(ex);
                return;
            }

            // Before the reply: whoever gets it sees the memory back already.
            GiveMemoryBack(GC.GetTotalAllocatedBytes() - allocated);
            done.SetResult(result);
        })
        {
            IsBackground = true,
            Name = name,
        };
        thread.Start();
        return done.Task;
    }

    /// <summary>
    /// After a job that allocated much, a compacting collection that decommits the freed heap;
    /// after every job, glibc's free lists trimmed (DuckDB and FFTW memory freed with the job).
    /// </summary>
    private static void GiveMemoryBack(long allocatedBytes)
    {
        if (allocatedBytes > CompactAfterBytes)
        {
            GC.Collect(2, GCCollectionMode.Aggressive, blocking: true, compacting: true);
        }


        if (OperatingSystem.IsLinux() && Volatile.Read(ref s_trimUnavailable) == 0)
        {
            try
            {
                _ = NativeMethods.malloc_trim(0);
            }
            catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
            {
                // Not glibc (e.g. musl): nothing to trim.
                Volatile.Write(ref s_trimUnavailable, 1);
            }
        }
    }

    /// <summary>Raises this thread's niceness; threads and processes it starts inherit it (Linux: nice is per thread).</summary>
    private static void Lower(int nice)
    {
        if (nice <= 0 || !OperatingSystem.IsLinux())
        {
            return;
        }

        try
        {
            int tid;
            try
            {
                tid = NativeMethods.gettid();
            }
            catch (EntryPointNotFoundException) when (RuntimeInformation.ProcessArchitecture == Architecture.X64)
            {
                // glibc before 2.30 has no gettid(); the system call has always been there.
                tid = (int)NativeMethods.syscall(SysGettid);
            }

            _ = NativeMethods.setpriority(PrioProcess, (uint)tid, nice);
        }
        catch (Exception ex) when (ex is EntryPointNotFoundException or DllNotFoundException)
        {
            // Best effort: without it jobs run at the server's priority.
        }
    }

    private static class NativeMethods
    {
#pragma warning disable SYSLIB1054 // Blittable signatures: DllImport needs no marshalling and no unsafe code here.
        [DllImport("libc", ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int malloc_trim(nuint pad);

        [DllImport("libc", ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int setpriority(int which, uint who, int prio);

        [DllImport("libc", ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern int gettid();

        [DllImport("libc", ExactSpelling = true)]
        [DefaultDllImportSearchPaths(DllImportSearchPath.SafeDirectories)]
        internal static extern long syscall(long number);
#pragma warning restore SYSLIB1054
    }
}
