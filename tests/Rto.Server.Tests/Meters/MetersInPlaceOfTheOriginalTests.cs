using System.Net.Http.Json;
using System.Text.Json;
using Rto.Client.Meters;
using Rto.Protocols.Meters;

namespace Rto.Server.Tests.Meters;

/// <summary>
/// The server started as docs/migrating.md says, in the folder the original meter server ran in:
/// its ip_mapping.txt is the registry and the power log goes to logs/&lt;start time&gt;.txt there.
/// </summary>
[TestClass]
public sealed class MetersInPlaceOfTheOriginalTests
{
    [TestMethod]
    public async Task InTheOriginalsFolderItsRegistryIsReadAndItsLogLayoutWritten()
    {
        string folder = TestServer.NewDataDirectory();
        Directory.CreateDirectory(folder);

        // The original's format, with its own quirks: no newline at the end, Cyrillic units, any key.
        await File.WriteAllTextAsync(Path.Combine(folder, "ip_mapping.txt"), "feeder-1\t0\t400\tВ\n10.0.0.9\t0\t5\tА");
        await using ServerProcess server = await ServerProcess.StartInAsync(
            folder, Path.Combine(folder, "data"), "--Meters:PowerLogLayout=PerRun", "--Meters:PowerInterval=00:00:00.050");
        StringAssert.Contains(server.Output, "ip_mapping.txt");

        using var http = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        JsonElement meters = (await http.GetFromJsonAsync<JsonElement>("/meters/")).GetProperty("meters");
        CollectionAssert.AreEqual(new[] { "10.0.0.9", "feeder-1" }, meters.EnumerateArray().Select(m => m.GetProperty("ip").GetString()).ToArray());

        long t = MeterTimestamp.FromDateTime(new DateTime(2024, 4, 27, 14, 0, 0));
        await using (MetersClient client = await MetersClient.ConnectAsync(server.MetersEndPoint))
        {
            await client.SendManyAsync([new MeterReading("feeder-1", t, 230), new MeterReading("10.0.0.9", t + 100, 2.5)]);
        }

        string logs = Path.Combine(folder, "logs");
        using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(30));
        while (!Directory.Exists(logs) || Directory.GetFiles(logs).Length == 0 || new FileInfo(Directory.GetFiles(logs)[0]).Length == 0)
        {
            await Task.Delay(20, timeout.Token);
        }

        Assert.AreEqual("575.0|2024-04-27 14:00:00\n", await File.ReadAllTextAsync(Directory.GetFiles(logs).Single()));
    }

    /// <summary>The original had no settings file; a <c>--config</c> must not be silently ignored.</summary>
    [TestMethod]
    public async Task ConfigFlagIsRefusedWithTheReason()
    {
        string folder = TestServer.NewDataDirectory();
        Directory.CreateDirectory(folder);
        InvalidOperationException refused = await Assert.ThrowsExactlyAsync<InvalidOperationException>(
            () => ServerProcess.StartInAsync(folder, Path.Combine(folder, "data"), "--config", "config.yaml"));
        StringAssert.Contains(refused.Message, "--config config.yaml");
        StringAssert.Contains(refused.Message, "--Meters:");
    }
}
