using System.Buffers;
using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using Rto.Protocols.Meters;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;
using Rto.Server.Meters;
using Rto.Server.Storage;

namespace Rto.Benchmarks.Load;

/// <summary>
/// Meter ingestion over loopback: N connections stream valid TSV readings for the sample
/// registry as fast as the server takes them. Reports readings accepted per second (from the
/// server's counters) and memory before and after. The server runs in this process with only the
/// meters endpoint on a free port and a temporary data directory.
/// </summary>
public static class MeterIngestLoad
{
    private const string Usage = "usage: load meters [--connections 4] [--duration 10] [--warmup 1] [--fsync Interval|Always|Never]";

    /// <summary>Runs the load; returns 0 when readings were accepted and none rejected, 1 otherwise, 2 on bad arguments.</summary>
    public static async Task<int> RunAsync(string[] args)
    {
        ArgumentNullException.ThrowIfNull(args);
        int connections = 4;
        double duration = 10;
        double warmup = 1;
        string fsync = "Interval";
        string[] rest = args is ["meters", ..] ? args[1..] : args;
        for (int i = 0; i < rest.Length; i += 2)
        {
            if (i + 1 >= rest.Length)
            {
                await Console.Error.WriteLineAsync(Usage);
                return 2;
            }

            bool ok = rest[i] switch
            {
                "--connections" => int.TryParse(rest[i + 1], CultureInfo.InvariantCulture, out connections) && connections > 0,
                "--duration" => double.TryParse(rest[i + 1], CultureInfo.InvariantCulture, out duration) && duration > 0,
                "--warmup" => double.TryParse(rest[i + 1], CultureInfo.InvariantCulture, out warmup) && warmup >= 0,
                "--fsync" => Enum.TryParse<FsyncPolicy>(fsync = rest[i + 1], ignoreCase: false, out _),
                _ => false,
            };
            if (!ok)
            {
                await Console.Error.WriteLineAsync(Usage);
                return 2;
            }
        }

        string data = Path.Combine(Path.GetTempPath(), "rto-meters-load-" + Guid.NewGuid().ToString("N"));
        WebApplication server = RtoServer.Build(
        [
            "--Metrics:Enabled=false", "--Jobs:Enabled=false", "--Messenger:Enabled=false", "--Health:Enabled=false", "--Console:Enabled=false", "--Optimization:Enabled=false",
            "--Meters:Port=0", "--Meters:HttpPort=-1", $"--Meters:DataDirectory={data}", $"--Meters:PlotDirectory={Path.Combine(data, "plots")}",
            $"--Meters:Fsync={fsync}", "--Logging:LogLevel:Default=Warning",
        ]);
        await server.StartAsync();
        try
        {
            IPEndPoint endPoint = server.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Meters);
            MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
            Console.WriteLine($"meters ingest: {endPoint}, {connections} connections, warm-up {warmup} s, duration {duration} s, fsync {fsync}, {Environment.ProcessorCount} cores");
            byte[] block = BuildBlock();
            using var stop = new CancellationTokenSource();
            Task[] senders = new Task[connections];
            for (int c = 0; c < connections; c++)
            {
                senders[c] = SendAsync(endPoint, block, stop.Token);
            }

            await Task.Delay(TimeSpan.FromSeconds(warmup));
            MemorySnapshot before = MemorySnapshot.Take(inProcess: true, serverPid: null);
            long startAccepted = counters.Accepted;
            var clock = Stopwatch.StartNew();
            await Task.Delay(TimeSpan.FromSeconds(duration));
            long accepted = counters.Accepted - startAccepted;
            double seconds = clock.Elapsed.TotalSeconds;
            MemorySnapshot after = MemorySnapshot.Take(inProcess: true, serverPid: null);
            await stop.CancelAsync();
            await Task.WhenAll(senders);

            long rejected = counters.Malformed + counters.UnknownMeter + counters.OutOfRange;
            Console.WriteLine(string.Create(CultureInfo.InvariantCulture, $"accepted {accepted:N0} readings in {seconds:0.00} s = {accepted / seconds:N0} readings/s; rejected {rejected}"));
            Console.WriteLine(MemorySnapshot.Describe(before, after));
            return accepted > 0 && rejected == 0 ? 0 : 1;
        }
        finally
        {
            await server.StopAsync();
            await server.DisposeAsync();
            try
            {
                Directory.Delete(data, recursive: true);
            }
            catch (IOException)
            {
                // Best effort.
            }
        }
    }

    /// <summary>64 KB of valid readings for the sample registry's first two meters.</summary>
    private static byte[] BuildBlock()
    {
        var buffer = new ArrayBufferWriter<byte>(70_000);
        long t0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));
        for (int i = 0; buffer.WrittenCount < 64 * 1024; i++)
        {
            MeterLineWriter.Write(buffer, new MeterReading(0x0A000001, t0 + i * 1000L, 100 + i % 10));
            MeterLineWriter.Write(buffer, new MeterReading(0x0A000002, t0 + i * 1000L + 10, 0.25));
        }

        return buffer.WrittenSpan.ToArray();
    }

    private static async Task SendAsync(IPEndPoint endPoint, byte[] block, CancellationToken stop)
    {
        using var socket = new Socket(SocketType.Stream, ProtocolType.Tcp) { NoDelay = true };
        await socket.ConnectAsync(endPoint);
        try
        {
            while (!stop.IsCancellationRequested)
            {
                await socket.SendAsync(block, SocketFlags.None, stop);
            }
        }
        catch (OperationCanceledException)
        {
            // Done.
        }
        catch (SocketException)
        {
            // The server stopped.
        }
    }
}
