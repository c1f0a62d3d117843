using Microsoft.Extensions.DependencyInjection;
using Rto.Client;
using Rto.Client.Meters;
using Rto.Protocols.Meters;
using Rto.Server.Meters;

namespace Rto.Server.Tests.Meters;

[TestClass]
public sealed class MetersClientTests
{
    [TestMethod]
    public async Task StreamsBatchedReadingsAndRawLines()
    {
        await using TestServer server = await TestServer.StartAsync();
        MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
        long t0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));
        uint voltage = MetersClient.ParseIPv4("10.0.0.1");
        await using (MetersClient client = await MetersClient.ConnectAsync(server.MetersEndPoint))
        {
            await client.SendManyAsync(Enumerable.Range(0, 5000).Select(i => new MeterReading(voltage, t0 + i, 100)));
            await client.SendAsync(new MeterReading(voltage, t0, 1000));
            await client.SendLineAsync("not a reading");
        }

        // Disposing waits for the server to close the connection, so every line has been counted.
        Assert.AreEqual(5000, counters.Accepted);
        Assert.AreEqual(1, counters.OutOfRange);
        Assert.AreEqual(1, counters.Malformed);
    }
}

[TestClass]
public sealed class MeterSimulatorEndToEndTests
{
    [TestMethod]
    public async Task SimulatorLinesInPowerLogAndQueriesOut()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Meters:PowerInterval=01:00:00");
        MeterCounters counters = server.Services.GetRequiredService<MeterCounters>();
        PowerCalculator power = server.Services.GetRequiredService<PowerCalculator>();
        MeterRegistryContent registry = await MeterRegistryReader.ReadFileAsync(Path.Combine(AppContext.BaseDirectory, "meters.tsv"));
        var start = new DateTime(2024, 4, 27, 14, 0, 0);
        List<string> good = Samples.MeterSimulator.MeterSimulator.Lines(registry.Meters, start, TimeSpan.FromMilliseconds(100), 20, 0, new Random(1)).ToList();
        List<string> mixed = Samples.MeterSimulator.MeterSimulator.Lines(registry.Meters, start.AddSeconds(10), TimeSpan.FromMilliseconds(100), 20, 0.5, new Random(2)).ToList();

        await using (MetersClient client = await MetersClient.ConnectAsync(server.MetersEndPoint))
        {
            foreach (string line in good.Concat(mixed))
            {
                await client.SendLineAsync(line);
            }
        }

        Assert.AreEqual(good.Count + mixed.Count, counters.Accepted + counters.Malformed + counters.UnknownMeter + counters.OutOfRange);
        Assert.IsGreaterThanOrEqualTo((long)good.Count, counters.Accepted);
        Assert.IsGreaterThan(0L, counters.Malformed + counters.UnknownMeter + counters.OutOfRange, "the bad flag produces rejections");

        TimedValue? point = power.Tick();
        Assert.IsNotNull(point, "voltage and current read at the same time give power");
        string log = File.ReadAllText(power.LogPath);
        StringAssert.Matches(log, new System.Text.RegularExpressions.Regex(@"^-?[0-9.E+-]+\|2024\.04\.27 14:00:1\d\.\d{6}\n$"));

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        System.Text.Json.JsonElement readings = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(
            http, "/meters/10.0.0.1/readings?to=2024.04.27%2014:00:01.950000");
        Assert.AreEqual(20, readings.GetArrayLength(), "the 20 good voltage readings of the first 2 s");
        System.Text.Json.JsonElement points = await System.Net.Http.Json.HttpClientJsonExtensions.GetFromJsonAsync<System.Text.Json.JsonElement>(http, "/meters/power");
        Assert.AreEqual(1, points.GetArrayLength());
    }
}

[TestClass]
public sealed class MetersClientErrorTests
{
    [TestMethod]
    public async Task ARefusedConnectThrowsConnectFailed()
    {
        var listener = new System.Net.Sockets.TcpListener(System.Net.IPAddress.Loopback, 0);
        listener.Start();
        var endPoint = (System.Net.IPEndPoint)listener.LocalEndpoint;
        listener.Stop();

        MetersClientException ex = await Assert.ThrowsAsync<MetersClientException>(async () => await MetersClient.ConnectAsync(endPoint));
        Assert.AreEqual(ClientErrorKind.ConnectFailed, ex.ErrorKind);
        Assert.IsInstanceOfType<System.Net.Sockets.SocketException>(ex.InnerException);
    }

    [TestMethod]
    public async Task AServerGoneMidStreamThrowsConnectionLost()
    {
        TestServer server = await TestServer.StartAsync();
        uint voltage = MetersClient.ParseIPv4("10.0.0.1");
        long t0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));
        await using MetersClient client = await MetersClient.ConnectAsync(server.MetersEndPoint);
        await client.SendManyAsync(Enumerable.Range(0, 100).Select(i => new MeterReading(voltage, t0 + i, 1)));
        await server.DisposeAsync();

        // The first sends after the close may still land in the socket buffer; the close is noticed within a few.
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        MetersClientException ex = await Assert.ThrowsAsync<MetersClientException>(async () =>
        {
            while (!timeout.IsCancellationRequested)
            {
                await client.SendManyAsync(Enumerable.Range(0, 100).Select(i => new MeterReading(voltage, t0 + i, 1)), timeout.Token);
            }
        });
        Assert.AreEqual(ClientErrorKind.ConnectionLost, ex.ErrorKind);
    }
}
