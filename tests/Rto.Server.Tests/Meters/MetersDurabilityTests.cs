using System.Net.Http.Json;
using System.Text.Json;
using Rto.Client;
using Rto.Client.Meters;
using Rto.Protocols.Meters;

namespace Rto.Server.Tests.Meters;

/// <summary>
/// What survives a crash: every reading the server counted as accepted had reached the OS before it
/// was counted, so under every fsync policy a kill -9 keeps all of them (a power loss is what the
/// policies differ on). A graceful stop keeps everything, power points included.
/// </summary>
[TestClass]
public sealed class MetersDurabilityTests
{
    private static readonly long T0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));
    private static readonly uint Voltage = MetersClient.ParseIPv4("10.0.0.1");
    private static readonly uint Current = MetersClient.ParseIPv4("10.0.0.2");

    private static HttpClient Http(ServerProcess server) => new() { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };

    private static async Task<long> AcceptedAsync(HttpClient http) =>
        (await http.GetFromJsonAsync<JsonElement>("/meters/counters")).GetProperty("accepted").GetInt64();

    private static async Task<int> CountAsync(HttpClient http, string path) =>
        (await http.GetFromJsonAsync<JsonElement>(path)).GetArrayLength();

    /// <summary>Polls over HTTP: the server is another process, there is no event to await.</summary>
    private static async Task<long> WaitForAcceptedAsync(HttpClient http, Func<long, bool> condition)
    {
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (true)
        {
            long accepted = await AcceptedAsync(http);
            if (condition(accepted))
            {
                return accepted;
            }

            await Task.Delay(20, timeout.Token);
        }
    }

    [TestMethod]
    [DataRow("Always")]
    [DataRow("Interval")]
    [DataRow("Never")]
    public async Task KillDashNineKeepsEveryCountedReading(string fsync)
    {
        string data = TestServer.NewDataDirectory();
        const int MaxReadings = 100_000; // the readings query returns at most 100,000
        long counted;
        await using (ServerProcess server = await ServerProcess.StartAsync(data, $"--Meters:Fsync={fsync}", "--Meters:WindowSize=100000"))
        {
            using HttpClient http = Http(server);
            MetersClient client = await MetersClient.ConnectAsync(server.MetersEndPoint);
            using var stop = new CancellationTokenSource();
            Task streaming = Task.Run(async () =>
            {
                for (int i = 0; i < MaxReadings && !stop.IsCancellationRequested; i += 500)
                {
                    await client.SendManyAsync(Enumerable.Range(i, 500).Select(n => new MeterReading(Voltage, T0 + n, 100)));
                }
            });

            // Kill while readings are still streaming in: whatever the counter showed must survive.
            counted = await WaitForAcceptedAsync(http, accepted => accepted >= 5000);
            await server.KillAsync();
            await stop.CancelAsync();
            try
            {
                await streaming;
            }
            catch (MetersClientException ex)
            {
                Assert.AreEqual(ClientErrorKind.ConnectionLost, ex.ErrorKind);
            }

            await client.DisposeAsync();
        }

        await using ServerProcess restarted = await ServerProcess.StartAsync(data, "--Meters:WindowSize=100000");
        using HttpClient again = Http(restarted);
        int kept = await CountAsync(again, "/meters/10.0.0.1/readings?limit=100000000");
        Assert.IsGreaterThanOrEqualTo((int)counted, kept, $"counted {counted} before the kill");
        StringAssert.Contains(restarted.Output, "Meter readings replayed");
    }

    [TestMethod]
    public async Task SigtermKeepsReadingsAndPowerWithoutRecomputingIt()
    {
        string data = TestServer.NewDataDirectory();
        string[] settings = ["--Meters:Fsync=Never", "--Meters:PowerInterval=00:00:00.050"];
        string powerBefore;
        await using (ServerProcess server = await ServerProcess.StartAsync(data, settings))
        {
            using HttpClient http = Http(server);
            await using (MetersClient client = await MetersClient.ConnectAsync(server.MetersEndPoint))
            {
                await client.SendManyAsync(Enumerable.Range(0, 1000).SelectMany(i => new[]
                {
                    new MeterReading(Voltage, T0 + i * 1000L, 100 + i % 10),
                    new MeterReading(Current, T0 + i * 1000L + 10, 0.25),
                }));
            }

            await WaitForAcceptedAsync(http, accepted => accepted == 2000);
            using var waiting = new CancellationTokenSource(TimeSpan.FromSeconds(30));
            while (!(powerBefore = await http.GetStringAsync("/meters/power")).Contains("2024.04.27 14:00:00.999000", StringComparison.Ordinal))
            {
                await Task.Delay(20, waiting.Token);
            }

            Assert.AreEqual(0, await server.TerminateAsync());
        }

        string powerLog = Path.Combine(data, "meters", "power.log");
        string powerLines = await File.ReadAllTextAsync(powerLog);
        await using ServerProcess restarted = await ServerProcess.StartAsync(data, settings);
        using HttpClient again = Http(restarted);
        Assert.AreEqual(1000, await CountAsync(again, "/meters/10.0.0.1/readings"));
        Assert.AreEqual(1000, await CountAsync(again, "/meters/10.0.0.2/readings"));
        Assert.AreEqual(powerBefore, await again.GetStringAsync("/meters/power"));

        StringAssert.Contains(restarted.Output, "Power points replayed");

        // New data makes the calculator tick: exactly one new point, none for the replayed readings.
        int before = await CountAsync(again, "/meters/power");
        await using (MetersClient client = await MetersClient.ConnectAsync(restarted.MetersEndPoint))
        {
            await client.SendManyAsync([new MeterReading(Voltage, T0 + 5_000_000, 100), new MeterReading(Current, T0 + 5_000_000, 0.5)]);
        }

        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (await CountAsync(again, "/meters/power") == before)
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.AreEqual(powerLines + "50|2024.04.27 14:00:05.000000\n", await File.ReadAllTextAsync(powerLog), "no duplicate power line after the restart");
    }
}
