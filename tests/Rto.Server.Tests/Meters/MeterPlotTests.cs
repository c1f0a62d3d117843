using Microsoft.Extensions.DependencyInjection;
using Rto.Protocols.Meters;
using Rto.Server.Meters;
using SkiaSharp;

namespace Rto.Server.Tests.Meters;

[TestClass]
public sealed class MeterPlotTests
{
    private static void AssertPng(byte[] png, int width, int height)
    {
        CollectionAssert.AreEqual(new byte[] { 0x89, (byte)'P', (byte)'N', (byte)'G' }, png[..4]);
        using SKBitmap bitmap = SKBitmap.Decode(png);
        Assert.IsNotNull(bitmap, "the PNG decodes");
        Assert.AreEqual(width, bitmap.Width);
        Assert.AreEqual(height, bitmap.Height);
    }

    [TestMethod]
    public void RendersALineChartOfTheExpectedSize()
    {
        long t0 = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));
        List<TimedValue> points = Enumerable.Range(0, 50).Select(i => new TimedValue(t0 + i * 1_000_000L, 20 + Math.Sin(i / 5.0))).ToList();

        AssertPng(MeterPlots.RenderPng("Power", "Power, W", points, 640, 320), 640, 320);
    }

    [TestMethod]
    public void RendersANoDataChartInsteadOfFailing()
    {
        byte[] empty = MeterPlots.RenderPng("Power", "Power, W", [], 400, 300);
        AssertPng(empty, 400, 300);
        byte[] data = MeterPlots.RenderPng("Power", "Power, W", [new TimedValue(MeterTimestamp.FromDateTime(new DateTime(2024, 1, 1)), 1)], 400, 300);
        CollectionAssert.AreNotEqual(empty, data, "the no-data chart differs from a chart with a point");
    }

    [TestMethod]
    public async Task ServerWritesPowerPngAndServesChartsAndDashboard()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Meters:PlotWidth=500", "--Meters:PlotHeight=250");
        PowerCalculator power = server.Services.GetRequiredService<PowerCalculator>();
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(15));
        while (!File.Exists(power.PlotPath))
        {
            await Task.Delay(10, timeout.Token);
        }

        Assert.StartsWith(Path.Combine(server.DataDirectory, "plots"), power.PlotPath);
        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        AssertPng(await http.GetByteArrayAsync("/meters/power.png"), 500, 250);
        AssertPng(await http.GetByteArrayAsync("/meters/10.0.0.1/readings.png"), 500, 250);
        StringAssert.Contains(await http.GetStringAsync("/meters/dashboard"), "<img src=\"power.png\"");
    }
}
