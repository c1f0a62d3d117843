using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Runtime;
using System.Text;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Server.Metrics;

namespace Rto.Benchmarks.Load;

/// <summary>
/// <c>load metrics --mode size</c>: puts <c>--total</c> points over TCP (regular timestamps per
/// key, values from <c>--values</c>, in <c>--order</c>), then reports what the server holds per
/// point, resident and on disk, and how long the puts took.
/// </summary>
internal static class MetricsSizeLoad
{
    public static async Task<int> RunAsync(LoadOptions options)
    {
        using var deadline = new CancellationTokenSource(TimeSpan.FromHours(2));
        string? ownDirectory = null;
        WebApplication? server = null;
        try
        {
            IPEndPoint endPoint;
            string? dataDirectory = options.DataDirectory;
            if (options.Port is int port)
            {
                endPoint = new IPEndPoint((await Dns.GetHostAddressesAsync(options.Host, deadline.Token)).First(a => a.AddressFamily == System.Net.Sockets.AddressFamily.InterNetwork), port);
            }
            else
            {
                dataDirectory = ownDirectory = Path.Combine(Path.GetTempPath(), "rto-size-" + Guid.NewGuid().ToString("N"));
                (server, endPoint) = await MetricsLoadGenerator.StartServerAsync(ownDirectory, options.Fsync, options.ServerSettings, deadline.Token);
            }

            return await MeasureAsync(options, endPoint, server, dataDirectory, deadline.Token);
        }
        catch (Exception ex) when (ex is IOException or System.Net.Sockets.SocketException or OperationCanceledException)
        {
            await Console.Error.WriteLineAsync($"Size run failed: {ex.GetType().Name}: {ex.Message}");
            return 1;
        }
        finally
        {
            if (server is not null)
            {
                await server.StopAsync(CancellationToken.None);
                await server.DisposeAsync();
            }

            if (ownDirectory is not null && Directory.Exists(ownDirectory))
            {
                Directory.Delete(ownDirectory, recursive: true);
            }
        }
    }

    private static async Task<int> MeasureAsync(LoadOptions options, IPEndPoint endPoint, WebApplication? server, string? dataDirectory, CancellationToken deadline)
    {
        int connections = options.Connections;
        long keys = (long)connections * options.Keys;
        long rounds = (options.TotalPoints + keys - 1) / keys;
        long points = rounds * keys;
        string run = Guid.NewGuid().ToString("N")[..4];
        Console.WriteLine($"metrics size: {points:N0} points = {keys:N0} keys x {rounds:N0} rounds, values {options.Values}, order {options.Order}, every {options.IntervalSeconds} s, {connections} connections x {options.Pipeline} per batch, {(server is null ? $"server at {endPoint}" : "in-process server")}");

        Resident before = Resident.Measure(server is not null, options.ServerPid);
        var clients = new LoadConnection[connections];
        long errors = 0;
        long started = Stopwatch.GetTimestamp();
        try
        {
            for (int c = 0; c < connections; c++)
            {
                clients[c] = await LoadConnection.ConnectAsync(endPoint, options.Pipeline, deadline);
            }

            await Task.WhenAll(clients.Select((client, c) => Task.Run(() => SendAsync(client, run, c, options, rounds, deadline), deadline)));
            errors = clients.Sum(c => c.Errors);
        }
        finally
        {
            foreach (LoadConnection? client in clients)
            {
                if (client is not null)
                {
                    await client.DisposeAsync();
                }
            }
        }

        double seconds = Stopwatch.GetElapsedTime(started).TotalSeconds;
        // Lets a checkpoint the last puts triggered finish, so the disk figure is the settled one.
        await Task.Delay(TimeSpan.FromSeconds(3), deadline);
        Resident after = Resident.Measure(server is not null, options.ServerPid);
        Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"puts: {points:N0} in {seconds:F2} s = {points / seconds:N0} puts/s, {errors} error replies"));
        Report(points, before, after, dataDirectory, server?.Services.GetRequiredService<MetricStore>());
        return errors == 0 ? 0 : 1;
    }

    private static async Task SendAsync(LoadConnection client, string run, int connection, LoadOptions options, long rounds, CancellationToken deadline)
    {
        var pattern = new PointPattern(options.Values, options.Order, rounds, options.IntervalSeconds, seed: connection);
        string[] keys = [.. Enumerable.Range(0, options.Keys).Select(k => $"size.{run}.c{connection}.k{k}")];
        var batch = new StringBuilder();
        int count = 0;
        for (long round = 0; round < rounds; round++)
        {
            long timestamp = pattern.Timestamp(round);
            for (int k = 0; k < keys.Length; k++)
            {
                batch.Append("put ").Append(keys[k]).Append(' ').Append(PointPattern.Format(pattern.Value((connection * keys.Length) + k, timestamp)))
                    .Append(' ').Append(timestamp.ToString(CultureInfo.InvariantCulture)).Append('\n');
                if (++count == options.Pipeline)
                {
                    await client.SendAllAsync(Encoding.ASCII.GetBytes(batch.ToString()), count, deadline);
                    batch.Clear();
                    count = 0;
                }
            }
        }

        if (count > 0)
        {
            await client.SendAllAsync(Encoding.ASCII.GetBytes(batch.ToString()), count, deadline);
        }
    }

    /// <summary>Prints resident and on-disk bytes per point, and one summary line for scripts.</summary>
    internal static void Report(long points, Resident before, Resident after, string? dataDirectory, MetricStore? store)
    {
        static string PerPoint(long bytes, long points) => (bytes / (double)points).ToString("F2", CultureInfo.InvariantCulture);
        static string Mb(long bytes) => (bytes / (1024.0 * 1024.0)).ToString("F1", CultureInfo.InvariantCulture);

        string resident = after.WorkingSet < 0 ? "n/a" : PerPoint(after.WorkingSet - before.WorkingSet, points);
        string heap = after.GcHeap < 0 ? "n/a" : PerPoint(after.GcHeap - before.GcHeap, points);
        Console.WriteLine($"resident: working set {Mb(before.WorkingSet)} -> {Mb(after.WorkingSet)} MB = {resident} B/point; live GC heap {(after.GcHeap < 0 ? "n/a (external server)" : $"{Mb(before.GcHeap)} -> {Mb(after.GcHeap)} MB = {heap} B/point")}");
        string disk = "n/a";
        if (dataDirectory is not null && Directory.Exists(dataDirectory))
        {
            long log = 0;
            long snapshots = 0;
            foreach (FileInfo file in new DirectoryInfo(dataDirectory).EnumerateFiles())
            {
                if (file.Name.StartsWith("snapshot-", StringComparison.Ordinal))
                {
                    snapshots += file.Length;
                }
                else
                {
                    log += file.Length;
                }
            }

            disk = PerPoint(log + snapshots, points);
            Console.WriteLine($"disk: {Mb(log + snapshots)} MB = {disk} B/point (log {Mb(log)} MB, snapshots {Mb(snapshots)} MB)");
        }

        if (store is not null)
        {
            Console.WriteLine($"store: {store.KeyCount:N0} keys, {store.PointCount:N0} points, {Mb(store.MemoryUsed)} MB accounted = {PerPoint(store.MemoryUsed, points)} B/point");
        }

        Console.WriteLine($"summary: points={points} resident_b_per_point={resident} heap_b_per_point={heap} disk_b_per_point={disk}");
    }

    /// <summary>The server's memory: its working set, and in-process the live GC heap after a full compacting collection.</summary>
    internal readonly record struct Resident(long WorkingSet, long GcHeap)
    {
        public static Resident Measure(bool inProcess, int? serverPid)
        {
            if (inProcess)
            {
                GCMemoryInfo info = GC.GetGCMemoryInfo();
                Console.WriteLine($"gc before a full collection: heap {info.HeapSizeBytes >> 20} MB, fragmented {info.FragmentedBytes >> 20} MB, committed {info.TotalCommittedBytes >> 20} MB, gen2 collections {GC.CollectionCount(2)}");
                GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                GC.WaitForPendingFinalizers();
                GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
                using Process self = Process.GetCurrentProcess();
                return new Resident(self.WorkingSet64, GC.GetTotalMemory(forceFullCollection: false));
            }

            if (serverPid is int pid)
            {
                using var process = Process.GetProcessById(pid);
                return new Resident(process.WorkingSet64, -1);
            }

            return new Resident(-1, -1);
        }
    }
}
