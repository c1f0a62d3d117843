using System.Diagnostics;
using System.Globalization;

namespace Rto.Benchmarks.Load;

/// <summary>
/// Memory of the server process. In-process that is this process (server and load generator
/// together; the generator itself allocates almost nothing while running). For an external
/// server only its working set is visible, and only when its pid is given.
/// </summary>
internal readonly record struct MemorySnapshot(bool InProcess, long WorkingSet, long GcHeap, long Allocated, int Gen0, int Gen1, int Gen2)
{
    public static MemorySnapshot Take(bool inProcess, int? serverPid)
    {
        if (inProcess)
        {
            return new MemorySnapshot(
                true,
                Environment.WorkingSet,
                GC.GetTotalMemory(forceFullCollection: false),
                GC.GetTotalAllocatedBytes(),
                GC.CollectionCount(0),
                GC.CollectionCount(1),
                GC.CollectionCount(2));
        }

        if (serverPid is int pid)
        {
            using var process = Process.GetProcessById(pid);
            return new MemorySnapshot(false, process.WorkingSet64, -1, -1, 0, 0, 0);
        }

        return new MemorySnapshot(false, -1, -1, -1, 0, 0, 0);
    }

    public static string Describe(MemorySnapshot before, MemorySnapshot after)
    {
        if (before.WorkingSet < 0)
        {
            return "memory: external server; pass --server-pid to see its working set";
        }

        string workingSet = string.Create(CultureInfo.InvariantCulture, $"working set {Mb(before.WorkingSet)} -> {Mb(after.WorkingSet)} MB");
        if (!before.InProcess)
        {
            return "memory (server process): " + workingSet;
        }

        return string.Create(
            CultureInfo.InvariantCulture,
            $"memory (server + load generator process): {workingSet}, GC heap {Mb(before.GcHeap)} -> {Mb(after.GcHeap)} MB, allocated {Mb(after.Allocated - before.Allocated)} MB, GCs gen0/1/2 {after.Gen0 - before.Gen0}/{after.Gen1 - before.Gen1}/{after.Gen2 - before.Gen2}");
    }

    private static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture);
}
