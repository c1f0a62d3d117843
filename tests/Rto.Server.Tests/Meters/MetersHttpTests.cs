using System.Net;
using System.Net.Http.Json;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rto.Protocols.Meters;
using Rto.Server.Meters;

namespace Rto.Server.Tests.Meters;

/// <summary>Issue 15 items 8 (charts drawn once per change) and 11 (query parameters checked, with a message).</summary>
[TestClass]
public sealed class MetersHttpTests
{
    private static readonly long T0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));

    private static HttpClient Http(TestServer server) => new() { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };

    private static void Store(TestServer server, string meter, long timestamp, double value)
    {
        MeterStore store = server.Services.GetRequiredService<MeterStore>();
        store.Add(meter, timestamp, value);
    }

    private static async Task WaitForPlotAsync(TestServer server)
    {
        PowerCalculator power = server.Services.GetRequiredService<PowerCalculator>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!File.Exists(power.PlotPath))
        {
            await Task.Delay(10, timeout.Token);
        }
    }

    [TestMethod]
    public async Task AnInvalidQueryParameterGets400SayingWhatIsWrong()
    {
        (string Path, string Mentioned)[] cases =
        [
            ("/meters/10.0.0.1/readings?limit=0", "limit"),
            ("/meters/10.0.0.1/readings?limit=-1", "limit"),
            ("/meters/10.0.0.1/readings?limit=abc", "'abc'"),
            ("/meters/10.0.0.1/readings?limit=99999999999999999999", "limit"),
            ("/meters/10.0.0.1/readings?limit=100001", "100,000"),
            ("/meters/10.0.0.1/readings?limit=", "limit"),
            ("/meters/10.0.0.1/readings?limit=1&limit=2", "once"),
            ("/meters/10.0.0.1/readings?limt=5", "'limt'"),
            ("/meters/10.0.0.1/readings?from=yesterday", "from"),
            ("/meters/10.0.0.1/readings?from=2024.04.28%2000:00:00.0&to=2024.04.27%2000:00:00.0", "later than"),
            ("/meters/power?limit=5", "'limit'"),
            ("/meters/power.png?to=tomorrow", "to"),
            ("/meters/counters?x=1", "no query parameters"),
        ];
        await using TestServer server = await TestServer.StartAsync(null, "--Meters:PowerInterval=01:00:00");
        using HttpClient http = Http(server);
        foreach ((string path, string mentioned) in cases)
        {
            HttpResponseMessage response = await http.GetAsync(path);
            Assert.AreEqual(HttpStatusCode.BadRequest, response.StatusCode, path);
            Assert.AreEqual("application/problem+json", response.Content.Headers.ContentType?.MediaType, path);
            string detail = (await response.Content.ReadFromJsonAsync<JsonElement>()).GetProperty("detail").GetString()!;
            StringAssert.Contains(detail, mentioned, path);
        }
    }

    [TestMethod]
    public async Task LimitReturnsThatManyLatestReadings()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Meters:PowerInterval=01:00:00");
        for (int i = 0; i < 5; i++)
        {
            Store(server, "10.0.0.1", T0 + i, i);
        }

        using HttpClient http = Http(server);
        JsonElement two = await http.GetFromJsonAsync<JsonElement>("/meters/10.0.0.1/readings?limit=2");
        CollectionAssert.AreEqual(new[] { 3.0, 4.0 }, two.EnumerateArray().Select(r => r.GetProperty("value").GetDouble()).ToArray());
        Assert.AreEqual(5, (await http.GetFromJsonAsync<JsonElement>("/meters/10.0.0.1/readings?limit=100000")).GetArrayLength());
    }

    /// <summary>Polling a chart serves the cached bytes; only a change of its data draws it again.</summary>
    [TestMethod]
    public async Task AChartIsDrawnOncePerChangeOfItsData()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Meters:PowerInterval=01:00:00", "--Meters:ChartRefreshInterval=00:00:00");
        await WaitForPlotAsync(server);
        MeterCharts charts = server.Services.GetRequiredService<MeterCharts>();
        using HttpClient http = Http(server);

        long before = charts.Renders;
        HttpResponseMessage first = await http.GetAsync("/meters/10.0.0.1/readings.png");
        byte[] png = await first.Content.ReadAsByteArrayAsync();
        for (int i = 0; i < 20; i++)
        {
            CollectionAssert.AreEqual(png, await http.GetByteArrayAsync("/meters/10.0.0.1/readings.png"));
        }

        Assert.AreEqual(before + 1, charts.Renders, "20 more requests, no more drawing");

        // A client that revalidates gets 304 without a body.
        using var revalidate = new HttpRequestMessage(HttpMethod.Get, "/meters/10.0.0.1/readings.png");
        revalidate.Headers.IfNoneMatch.Add(first.Headers.ETag!);
        Assert.AreEqual(HttpStatusCode.NotModified, (await http.SendAsync(revalidate)).StatusCode);

        Store(server, "10.0.0.1", T0, 100);
        HttpResponseMessage changed = await http.GetAsync("/meters/10.0.0.1/readings.png");
        Assert.AreEqual(before + 2, charts.Renders, "new data, one new drawing");
        Assert.AreNotEqual(first.Headers.ETag, changed.Headers.ETag);
        CollectionAssert.AreNotEqual(png, await changed.Content.ReadAsByteArrayAsync());
    }

    /// <summary>Data changing faster than the interval is drawn at most once per interval.</summary>
    [TestMethod]
    public async Task AChartOfChangingDataIsDrawnAtMostOncePerInterval()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Meters:PowerInterval=01:00:00", "--Meters:ChartRefreshInterval=01:00:00");
        await WaitForPlotAsync(server);
        MeterCharts charts = server.Services.GetRequiredService<MeterCharts>();
        using HttpClient http = Http(server);

        byte[] png = await http.GetByteArrayAsync("/meters/10.0.0.2/readings.png");
        long drawn = charts.Renders;
        for (int i = 0; i < 10; i++)
        {
            Store(server, "10.0.0.2", T0 + i, 0.1 + (i * 0.01));
            CollectionAssert.AreEqual(png, await http.GetByteArrayAsync("/meters/10.0.0.2/readings.png"));
        }

        Assert.AreEqual(drawn, charts.Renders);
    }
}
