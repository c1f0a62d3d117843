using System.Buffers;
using System.Text;
using Microsoft.Extensions.Logging.Abstractions;
using Microsoft.Extensions.Options;
using Rto.Protocols.Meters;
using Rto.Server.Meters;
using Rto.Server.Storage;

namespace Rto.Server.Tests.Meters;

/// <summary>The store and the power calculator read their logs back on start.</summary>
[TestClass]
public sealed class MeterReplayTests
{
    private const string Registry = "10.0.0.1\t0\t110\tВ\n10.0.0.2\t0\t0.5\tА\n";
    private static readonly long T0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));

    private static MetersOptions NewOptions()
    {
        string data = TestServer.NewDataDirectory();
        Directory.CreateDirectory(data);
        string registry = Path.Combine(data, "registry.tsv");
        File.WriteAllText(registry, Registry);
        return new MetersOptions { DataDirectory = data, RegistryPath = registry, Fsync = FsyncPolicy.Never };
    }

    private static void Store(MeterStore store, params MeterReading[] readings)
    {
        var lines = new ArrayBufferWriter<byte>();
        foreach (MeterReading reading in readings)
        {
            store.Add(reading.Meter, reading.Timestamp, reading.Value);
            MeterLineWriter.Write(lines, reading);
        }

        store.AppendLog(lines.WrittenSpan);
    }

    [TestMethod]
    public void RotatedAndActiveLogsReplayOldestFirstIntoBoundedWindows()
    {
        MetersOptions options = NewOptions();
        options.ReadingsLogMaxBytes = 4096;
        options.ReadingsLogFilesKept = 3;
        options.WindowSize = 150;
        using (var store = new MeterStore(options))
        {
            for (int i = 0; i < 300; i++)
            {
                Store(store, new MeterReading("10.0.0.1", T0 + i, i % 100));
            }
        }

        Assert.IsTrue(File.Exists(MeterLogFile.RotatedPath(Path.Combine(options.DataDirectory, "readings.log"), 2)), "the test spans rotated files");
        using var replayed = new MeterStore(options);
        Assert.AreEqual(300, replayed.Replayed.Lines);
        Assert.AreEqual(0, replayed.Replayed.CorruptLines);
        List<TimedValue> window = replayed.Query("10.0.0.1", long.MinValue, long.MaxValue, int.MaxValue);
        Assert.HasCount(150, window, "the window keeps only the latest readings");
        Assert.AreEqual(T0 + 150, window[0].Timestamp);
        Assert.AreEqual(T0 + 299, window[^1].Timestamp);
    }

    [TestMethod]
    public void ATornLastLineIsCutOffAndCorruptLinesAreSkipped()
    {
        MetersOptions options = NewOptions();
        string log = Path.Combine(options.DataDirectory, "readings.log");
        File.WriteAllText(log, "10.0.0.1\t2024.04.27 14:00:00.000000\t1\ngarbage\n10.0.0.1\t2024.04.27 14:00:01.000000\t2\n10.0.0.1\t2024.04.2");
        long whole = File.ReadAllText(log).LastIndexOf('\n') + 1;

        using (var store = new MeterStore(options))
        {
            Assert.AreEqual(new LogReplay(2, 1, "10.0.0.1\t2024.04.2".Length, store.Replayed.Elapsed), store.Replayed);
            Assert.AreEqual(whole, new FileInfo(log).Length, "the torn tail is truncated");
            Store(store, new MeterReading("10.0.0.1", T0 + 2_000_000, 3));
        }

        using var again = new MeterStore(options);
        Assert.AreEqual(3, again.Replayed.Lines, "the next append started on a line boundary");
        Assert.AreEqual(0, again.Replayed.TornBytes);
        CollectionAssert.AreEqual(new[] { 1.0, 2, 3 }, again.Query("10.0.0.1", long.MinValue, long.MaxValue, 10).Select(p => p.Value).ToArray());
    }

    [TestMethod]
    public void PowerHistoryIsReplayedAndNotRecomputedForReplayedReadings()
    {
        MetersOptions options = NewOptions();
        string powerLog;
        using (var registry = new MeterRegistry(options.RegistryPath, NullLogger<MeterRegistry>.Instance))
        using (var store = new MeterStore(options))
        using (var power = new PowerCalculator(store, registry, Options.Create(options), NullLogger<PowerCalculator>.Instance))
        {
            Store(store, new MeterReading("10.0.0.1", T0, 100), new MeterReading("10.0.0.2", T0 + 10, 0.5));
            Assert.IsNotNull(power.Tick());
            powerLog = power.LogPath;
        }

        File.AppendAllText(powerLog, "12.5|2024-04-2"); // a crash in the middle of the next point
        using (var registry = new MeterRegistry(options.RegistryPath, NullLogger<MeterRegistry>.Instance))
        using (var store = new MeterStore(options))
        using (var power = new PowerCalculator(store, registry, Options.Create(options), NullLogger<PowerCalculator>.Instance))
        {
            Assert.AreEqual(new TimedValue(T0, 50), power.Query(long.MinValue, long.MaxValue).Single());
            Assert.IsNull(power.Tick(), "the replayed voltage reading already has its point");
            Store(store, new MeterReading("10.0.0.1", T0 + 1_000_000, 110), new MeterReading("10.0.0.2", T0 + 1_000_010, 0.5));
            Assert.AreEqual(55.0, power.Tick()!.Value.Value, 1e-9);
        }

        Assert.AreEqual("50.0|2024-04-27 14:00:00\n55.0|2024-04-27 14:00:01\n", File.ReadAllText(powerLog));
    }

    [TestMethod]
    [DataRow(FsyncPolicy.Always)]
    [DataRow(FsyncPolicy.Interval)]
    public void EveryPolicyWritesWholeLinesThatReplay(FsyncPolicy fsync)
    {
        MetersOptions options = NewOptions();
        options.Fsync = fsync;
        options.FsyncInterval = TimeSpan.FromMilliseconds(10);
        using (var store = new MeterStore(options))
        {
            Store(store, new MeterReading("10.0.0.1", T0, 1), new MeterReading("10.0.0.1", T0 + 1, 2));
            store.FlushToDisk();
        }

        Assert.AreEqual("10.0.0.1\t2024.04.27 14:00:00.000000\t1.0\n10.0.0.1\t2024.04.27 14:00:00.000001\t2.0\n", Encoding.ASCII.GetString(File.ReadAllBytes(Path.Combine(options.DataDirectory, "readings.log"))));
        using var again = new MeterStore(options);
        Assert.AreEqual(2, again.Replayed.Lines);
    }
}
