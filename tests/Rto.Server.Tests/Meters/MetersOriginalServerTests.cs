using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using System.Text.RegularExpressions;
using Microsoft.Extensions.DependencyInjection;
using Rto.Server.Meters;

namespace Rto.Server.Tests.Meters;

/// <summary>
/// Issue 14's Meters part, against the real server: what the original meter server
/// (socket-server-with-plot-generator) stored, logged and read, for the same bytes.
/// </summary>
[TestClass]
public sealed partial class MetersOriginalServerTests
{
    /// <summary>
    /// Sent to the original server (its core/ modules run by /usr/bin/python3 3.11, its own
    /// ip_mapping.txt, one connection, 1.3 s between groups so its power thread ticked once per
    /// group). It stored 11 of the 15 lines and wrote <see cref="OriginalPowerLog"/>.
    /// </summary>
    private static readonly string[][] s_feed =
    [
        ["10.0.0.1\t2024.04.27 14:00:00.000000\t100.1", "10.0.0.2\t2024.04.27 14:00:00.000100\t0.3"],
        [" 10.0.0.1\t2024.04.27 14:00:01.5\t99 ", "10.0.0.3\t2024.4.27 14:0:1.25\t0.5"],
        ["10.0.0.1\t2024.04.27  14:00:02.000001\t1_00.25", "10.0.0.4\t2024.04.27 14:00:02.1\t2.5\r", "10.0.0.5\t2024.04.27 14:00:02.2\t 3.5 "],
        ["10.0.0.1\t2024.04.27 14:00:03.000000\tnan", "10.0.0.1\t2024.04.27 14:00:03.000000\tinf", "010.0.0.1\t2024.04.27 14:00:03.000000\t50", "10.0.0.1\t2024.04.27 14:00:03\t50"],
        ["10.0.0.2\t2024.04.27 14:00:03.3\t0.4", "10.0.0.1\t2024.04.27 14:00:03.25\t1e1"],
        ["10.0.0.1\t2024.04.27 14:00:04.000000\t0.00001", "10.0.0.2\t2024.04.27 14:00:04.000000\t0.1"],
    ];

    /// <summary>The original's logs/&lt;start time&gt;.txt for <see cref="s_feed"/>, byte for byte.</summary>
    private const string OriginalPowerLog =
        "30.029999999999998|2024-04-27 14:00:00\n" +
        "49.5|2024-04-27 14:00:01.500000\n" +
        "250.625|2024-04-27 14:00:02.000001\n" +
        "4.0|2024-04-27 14:00:03.250000\n" +
        "1.0000000000000002e-06|2024-04-27 14:00:04\n";

    private static async Task WaitUntilAsync(Func<bool> condition, string what)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
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

    private static long Seen(MeterCounters c) => c.Accepted + c.Malformed + c.UnknownMeter + c.OutOfRange + c.NotFinite;

    [TestMethod]
    public async Task TheOriginalsFeedGivesItsPowerLogByteForByteInItsFileLayout()
    {
        string data = TestServer.NewDataDirectory();
        string logs = Path.Combine(data, "logs");
        DateTime before = DateTime.Now.AddSeconds(-1);
        await using TestServer server = await TestServer.StartAsync(
            data, "--Meters:PowerInterval=01:00:00", "--Meters:PowerLogLayout=PerRun", $"--Meters:PowerLogDirectory={logs}");
        MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
        PowerCalculator power = server.Services.GetRequiredService<PowerCalculator>();

        await using (RawConnection connection = await RawConnection.OpenAsync(server.MetersEndPoint))
        {
            long sent = 0;
            foreach (string[] group in s_feed)
            {
                await connection.SendAsync(string.Concat(group.Select(line => line + "\n")));
                sent += group.Length;
                await WaitUntilAsync(() => Seen(counters) == sent, $"{sent} lines");
                power.Tick();
            }
        }

        Assert.AreEqual(11, counters.Accepted, "the original stored 11");
        Assert.AreEqual(2, counters.NotFinite, "nan and inf, which the original refused as out of range");
        Assert.AreEqual(1, counters.UnknownMeter, "010.0.0.1 is not 10.0.0.1");
        Assert.AreEqual(1, counters.Malformed, "no fraction of a second");

        // The original's layout: logs/<start time as %Y-%m-%d-%H-%M-%S>.txt, a new file per run.
        string file = Directory.GetFiles(logs).Single();
        Match name = RunFileName().Match(Path.GetFileName(file));
        Assert.IsTrue(name.Success, file);
        DateTime started = DateTime.ParseExact(name.Groups[1].Value, "yyyy-MM-dd-HH-mm-ss", System.Globalization.CultureInfo.InvariantCulture);
        Assert.IsTrue(started >= before.AddSeconds(-1) && started <= DateTime.Now, $"{started} is the start time");
        Assert.AreEqual(file, Path.GetFullPath(power.LogPath));
        CollectionAssert.AreEqual(System.Text.Encoding.ASCII.GetBytes(OriginalPowerLog), await File.ReadAllBytesAsync(file));
    }

    [TestMethod]
    public async Task TheShippedSampleRegistryHasTheOriginalsMetersAndUnits()
    {
        await using TestServer server = await TestServer.StartAsync();
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        JsonElement meters = (await http.GetFromJsonAsync<JsonElement>("/meters/")).GetProperty("meters");
        string[] described = [.. meters.EnumerateArray().Select(m => $"{m.GetProperty("ip").GetString()} {m.GetProperty("rangeStart").GetDouble()}-{m.GetProperty("rangeStop").GetDouble()} {m.GetProperty("unit").GetString()}")];

        // The original ip_mapping.txt: 10.0.0.1 0 110 В, then four ammeters (А).
        CollectionAssert.AreEqual(new[] { "10.0.0.1 0-110 V", "10.0.0.2 0-0.5 A", "10.0.0.3 0.2-1 A", "10.0.0.4 1-5 A", "10.0.0.5 3-10 A" }, described);
    }

    /// <summary>The original kept meters in a dict keyed by the text of the line's first field.</summary>
    [TestMethod]
    public async Task MetersAreNamedByAnyTextAndALeadingZeroIsAnotherMeter()
    {
        string data = TestServer.NewDataDirectory();
        Directory.CreateDirectory(data);
        string registry = Path.Combine(data, "ip_mapping.txt");
        await File.WriteAllTextAsync(registry, "pump-7 west\t0\t400\tВ\n10.0.0.1\t0\t110\tВ\nкотёл\t0\t5\tА");
        await using TestServer server = await TestServer.StartAsync(data, $"--Meters:RegistryPath={registry}", "--Meters:PowerInterval=01:00:00");
        MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
        await using (RawConnection connection = await RawConnection.OpenAsync(server.MetersEndPoint))
        {
            await connection.SendAsync(
                "pump-7 west\t2024.04.27 14:00:00.0\t230\n" +
                "котёл\t2024.04.27 14:00:00.0\t2.5\n" +
                "010.0.0.1\t2024.04.27 14:00:00.0\t100\n" +
                "10.0.0.01\t2024.04.27 14:00:00.0\t100\n");
        }

        await WaitUntilAsync(() => Seen(counters) == 4, "4 lines");
        Assert.AreEqual(2, counters.Accepted);
        Assert.AreEqual(2, counters.UnknownMeter, "010.0.0.1 and 10.0.0.01 are not 10.0.0.1, as inet_pton and the original's dict both say");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        JsonElement readings = await http.GetFromJsonAsync<JsonElement>("/meters/pump-7%20west/readings");
        Assert.AreEqual(230.0, readings.EnumerateArray().Single().GetProperty("value").GetDouble());
        Assert.AreEqual(1, (await http.GetFromJsonAsync<JsonElement>("/meters/%D0%BA%D0%BE%D1%82%D1%91%D0%BB/readings")).GetArrayLength());
        HttpResponseMessage unknown = await http.GetAsync("/meters/010.0.0.1/readings");
        Assert.AreEqual(HttpStatusCode.NotFound, unknown.StatusCode);
        StringAssert.Contains(await unknown.Content.ReadAsStringAsync(), "'010.0.0.1' is not '10.0.0.1'");
    }

    /// <summary>NaN and ±inf (and what float() reads as inf) are refused under their own reason, whatever the range.</summary>
    [TestMethod]
    public async Task NonFiniteValuesAreRejectedUnderTheirOwnReason()
    {
        string data = TestServer.NewDataDirectory();
        Directory.CreateDirectory(data);
        string registry = Path.Combine(data, "registry.tsv");
        await File.WriteAllTextAsync(registry, "10.0.0.1\t-inf\tinf\tV\n");
        await using TestServer server = await TestServer.StartAsync(data, $"--Meters:RegistryPath={registry}", "--Meters:PowerInterval=01:00:00");
        MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
        await using (RawConnection connection = await RawConnection.OpenAsync(server.MetersEndPoint))
        {
            await connection.SendAsync(
                "10.0.0.1\t2024.04.27 14:00:00.0\tnan\n10.0.0.1\t2024.04.27 14:00:00.0\t-NaN\n10.0.0.1\t2024.04.27 14:00:00.0\tinf\n" +
                "10.0.0.1\t2024.04.27 14:00:00.0\t-Infinity\n10.0.0.1\t2024.04.27 14:00:00.0\t1e400\n10.0.0.1\t2024.04.27 14:00:00.0\t-1e300\n");
        }

        await WaitUntilAsync(() => Seen(counters) == 6, "6 lines");
        Assert.AreEqual(5, counters.NotFinite);
        Assert.AreEqual(1, counters.Accepted, "-1e300 is finite and within an unbounded range");
        Assert.AreEqual(0, counters.OutOfRange);

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        Assert.AreEqual(5, (await http.GetFromJsonAsync<JsonElement>("/meters/counters")).GetProperty("notFinite").GetInt64());
    }

    [GeneratedRegex(@"^([0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2})\.txt$")]
    private static partial Regex RunFileName();
}
