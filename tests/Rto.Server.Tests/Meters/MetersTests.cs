using System.Net.Http.Json;
using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Logging.Abstractions;
using Rto.Protocols.Meters;
using Rto.Server.Meters;

namespace Rto.Server.Tests.Meters;

[TestClass]
public sealed class MetersTests
{
    private const string Registry = "10.0.0.1\t0\t110\tВ\n10.0.0.2\t0\t0.5\tА\n10.0.0.3\t0.2\t1\tA\n";

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!condition())
        {
            try
            {
                await Task.Delay(10, timeout.Token);
            }
            catch (OperationCanceledException)
            {
                Assert.Fail($"Timed out waiting for {what}.");
            }
        }
    }

    private static string WriteRegistry(string directory, string text = Registry)
    {
        Directory.CreateDirectory(directory);
        string path = Path.Combine(directory, "registry.tsv");
        File.WriteAllText(path, text);
        return path;
    }

    private static Task<TestServer> StartAsync(out string registryPath)
    {
        string data = TestServer.NewDataDirectory();
        registryPath = WriteRegistry(Path.Combine(data, "registry"));
        return TestServer.StartAsync(data, $"--Meters:RegistryPath={registryPath}", "--Meters:PowerInterval=01:00:00");
    }

    private static string Line(string ip, DateTime time, double value) =>
        $"{ip}\t{time.ToString("yyyy.MM.dd HH:mm:ss.ffffff", System.Globalization.CultureInfo.InvariantCulture)}\t{value.ToString(System.Globalization.CultureInfo.InvariantCulture)}\n";

    [TestMethod]
    public async Task ValidatesAndCountsPerReason()
    {
        await using TestServer server = await StartAsync(out _);
        MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
        var t = new DateTime(2024, 4, 27, 14, 0, 0);
        await using (RawConnection connection = await RawConnection.OpenAsync(server.MetersEndPoint))
        {
            await connection.SendAsync(
                Line("10.0.0.1", t, 0) + Line("10.0.0.1", t, 110) + Line("10.0.0.3", t, 0.2) + Line("10.0.0.3", t, 1) // inclusive bounds
                + Line("10.0.0.1", t, 110.0001) + Line("10.0.0.3", t, 0.19) // out of range
                + Line("10.0.0.9", t, 1) // unknown
                + "garbage\r\n\r\n\n10.0.0.1\t2024.02.30 00:00:00.000000\t1\n" + new string('x', 1000) + "\n" // malformed (blank lines ignored)
                + Line("10.0.0.2", t, 0.25));
        }

        await WaitUntilAsync(() => counters.Accepted + counters.Malformed + counters.UnknownMeter + counters.OutOfRange == 11, "all lines counted");
        Assert.AreEqual(5, counters.Accepted);
        Assert.AreEqual(2, counters.OutOfRange);
        Assert.AreEqual(1, counters.UnknownMeter);
        Assert.AreEqual(3, counters.Malformed);
    }

    [TestMethod]
    public void PowerPairsClosestCurrentWithinWindow()
    {
        string data = TestServer.NewDataDirectory();
        var options = new MetersOptions { DataDirectory = data, RegistryPath = WriteRegistry(data) };
        using var registry = new MeterRegistry(options.RegistryPath, NullLogger<MeterRegistry>.Instance);
        using var store = new MeterStore(options);
        using var power = new PowerCalculator(store, registry, Microsoft.Extensions.Options.Options.Create(options), NullLogger<PowerCalculator>.Instance);
        long t0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));

        Assert.IsNull(power.Tick(), "no data yet");

        Add(store, new MeterReading("10.0.0.1", t0, 100));
        Add(store, new MeterReading("10.0.0.2", t0 + 600_000, 0.5));
        Assert.IsNull(power.Tick(), "the only current is 0.6 s away");

        Add(store, new MeterReading("10.0.0.2", t0 - 300_000, 0.3));
        Add(store, new MeterReading("10.0.0.3", t0 + 100_000, 0.4));
        Add(store, new MeterReading("10.0.0.2", t0 + 500_000, 0.45));
        TimedValue? point = power.Tick();
        Assert.IsNotNull(point);
        Assert.AreEqual(t0, point.Value.Timestamp);
        Assert.AreEqual(40.0, point.Value.Value, 1e-9, "the current 0.1 s away wins");

        Assert.IsNull(power.Tick(), "nothing new");
        Add(store, new MeterReading("10.0.0.1", t0 + 1_000_000, 50));
        Assert.AreEqual(25.0, power.Tick()!.Value.Value, 1e-9, "within 0.5 s inclusive");

        Assert.AreEqual("40.0|2024-04-27 14:00:00\n25.0|2024-04-27 14:00:01\n", File.ReadAllText(power.LogPath));
        Assert.HasCount(2, power.Query(long.MinValue, long.MaxValue));
        Assert.HasCount(1, power.Query(t0 + 1, long.MaxValue));
    }

    [TestMethod]
    public void TheReadingsLogRotatesAndKeepsABoundedNumberOfFiles()
    {
        string data = TestServer.NewDataDirectory();
        var options = new MetersOptions { DataDirectory = data, RegistryPath = WriteRegistry(data), ReadingsLogMaxBytes = 4096, ReadingsLogFilesKept = 2 };
        using var store = new MeterStore(options);
        byte[] batch = Encoding.ASCII.GetBytes(string.Concat(Enumerable.Repeat("10.0.0.1\t2024.04.27 14:00:00.000000\t1.5\n", 30)));

        for (int i = 0; i < 20; i++)
        {
            store.AppendLog(batch); // ~1.1 KB each: a rotation every 4 batches
        }

        CollectionAssert.AreEquivalent(
            new[] { "readings.1.log", "readings.2.log", "readings.log" },
            Directory.GetFiles(data, "readings*.log").Select(Path.GetFileName).ToArray());
        Assert.IsLessThan(4096 + batch.Length, new FileInfo(store.RotatedLogPath(1)).Length + 1);
        Assert.IsTrue(File.ReadAllText(store.RotatedLogPath(2)).EndsWith("1.5\n", StringComparison.Ordinal), "rotated files hold whole lines");
    }

    private static void Add(MeterStore store, MeterReading reading)
    {
        store.Add(reading.Meter, reading.Timestamp, reading.Value);
        store.AppendLog(Encoding.ASCII.GetBytes("x\n"));
    }

    [TestMethod]
    public async Task RegistryReloadsWhenTheFileChanges()
    {
        await using TestServer server = await StartAsync(out string registryPath);
        MeterRegistry registry = server.Services.GetRequiredService<MeterRegistry>();
        Assert.IsFalse(registry.TryGet("10.0.0.9", out _));

        File.WriteAllText(registryPath, Registry + "10.0.0.9\t0\t1\tV\n");

        await WaitUntilAsync(() => registry.TryGet("10.0.0.9", out _), "the new meter");
        Assert.IsTrue(registry.TryGet("10.0.0.9", out MeterDefinition meter));
        Assert.AreEqual(MeterUnit.Volt, meter.Unit);
    }

    [TestMethod]
    public async Task EndToEndLinesInPowerLogAndQueriesOut()
    {
        await using TestServer server = await StartAsync(out _);
        MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
        PowerCalculator power = server.Services.GetRequiredService<PowerCalculator>();
        var t = new DateTime(2024, 4, 27, 14, 0, 0);
        var text = new StringBuilder();
        for (int i = 0; i < 100; i++)
        {
            text.Append(Line("10.0.0.1", t.AddMilliseconds(i * 100), 100 + i % 10));
            text.Append(Line("10.0.0.2", t.AddMilliseconds(i * 100 + 10), 0.25));
        }

        for (int c = 0; c < 2; c++)
        {
            await using RawConnection connection = await RawConnection.OpenAsync(server.MetersEndPoint);
            await connection.SendAsync(text.ToString());
        }

        await WaitUntilAsync(() => counters.Accepted == 400, "400 readings accepted");
        TimedValue? point = power.Tick();
        Assert.IsNotNull(point);
        Assert.AreEqual(109 * 0.25, point.Value.Value, 1e-9);
        Assert.AreEqual("27.25|2024-04-27 14:00:09.900000\n", File.ReadAllText(power.LogPath));
        Assert.AreEqual(400, File.ReadAllLines(Path.Combine(server.DataDirectory, "meters", "readings.log")).Length);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        JsonElement readings = await http.GetFromJsonAsync<JsonElement>("/meters/10.0.0.1/readings?from=2024.04.27%2014:00:01.000000&to=2024-04-27T14:00:01.5");
        Assert.AreEqual(6 * 2, readings.GetArrayLength());
        Assert.AreEqual("2024.04.27 14:00:01.000000", readings[0].GetProperty("timestamp").GetString());
        Assert.AreEqual(100.0, readings[0].GetProperty("value").GetDouble());

        JsonElement powerPoints = await http.GetFromJsonAsync<JsonElement>("/meters/power");
        Assert.AreEqual(1, powerPoints.GetArrayLength());
        Assert.AreEqual(27.25, powerPoints[0].GetProperty("value").GetDouble());

        JsonElement json = await http.GetFromJsonAsync<JsonElement>("/meters/counters");
        Assert.AreEqual(400, json.GetProperty("accepted").GetInt64());
        Assert.AreEqual(System.Net.HttpStatusCode.NotFound, (await http.GetAsync("/meters/1.2.3/readings")).StatusCode);
        Assert.AreEqual(System.Net.HttpStatusCode.BadRequest, (await http.GetAsync("/meters/power?from=yesterday")).StatusCode);
    }

    [TestMethod]
    public async Task ShippedSampleRegistryIsTheDefault()
    {
        await using TestServer server = await TestServer.StartAsync();
        MeterRegistry registry = server.Services.GetRequiredService<MeterRegistry>();
        Assert.IsTrue(registry.TryGet("10.0.0.1", out MeterDefinition voltage));
        Assert.AreEqual(MeterUnit.Volt, voltage.Unit);
        Assert.IsTrue(registry.TryGet("10.0.0.2", out MeterDefinition current));
        Assert.AreEqual(MeterUnit.Ampere, current.Unit);
    }
}
