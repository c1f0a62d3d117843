using System.Text;
using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Rto.Client;
using Rto.Client.Metrics;
using Rto.Server.Metrics;

namespace Rto.Server.Tests.Metrics;

/// <summary>
/// The compressed store against what it replaced: data directories of the first format load and
/// are migrated, the same requests give the same bytes, and retention and the memory limit bound
/// what is kept.
/// </summary>
[TestClass]
public sealed class MetricsStorageTests
{
    private static string LegacyStore => Path.Combine(AppContext.BaseDirectory, "Metrics", "LegacyStore");

    private static string ExpectedGetAll => File.ReadAllText(Path.Combine(LegacyStore, "expected-get-all.txt"), Encoding.UTF8);

    [TestMethod]
    public async Task DataWrittenInTheFirstFormatLoadsByteForByteAndIsMigrated()
    {
        string data = TestServer.NewDataDirectory();
        Directory.CreateDirectory(data);
        foreach (string file in Directory.GetFiles(Path.Combine(LegacyStore, "files")))
        {
            File.Copy(file, Path.Combine(data, Path.GetFileName(file)));
        }

        await using (TestServer server = await TestServer.StartAsync(data))
        {
            await AssertGetAllAsync(server, ExpectedGetAll);
        }

        // Nothing of the first format is left: one snapshot of the new one replaced it.
        string[] files = Directory.GetFiles(data);
        Assert.IsEmpty(files.Where(f => MagicOf(f) is "RTOMLOG1" or "RTOMSNP1"), string.Join(", ", files));
        Assert.AreEqual("RTOMSNP2", MagicOf(Directory.GetFiles(data, "snapshot-*.snap").Single()));

        await using TestServer restarted = await TestServer.StartAsync(data);
        await AssertGetAllAsync(restarted, ExpectedGetAll);
    }

    [TestMethod]
    public async Task TheSameRequestsGiveTheSameBytesAsTheFirstFormatServer()
    {
        // requests.txt went to the server of the first format, which answered get * with expected-get-all.txt.
        string data = TestServer.NewDataDirectory();
        await using (TestServer server = await TestServer.StartAsync(data, "--Metrics:SegmentSize=4096"))
        {
            await using (RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint))
            {
                string[] lines = File.ReadAllLines(Path.Combine(LegacyStore, "requests.txt"), Encoding.UTF8);
                for (int i = 0; i < lines.Length; i += 100)
                {
                    string[] batch = lines[i..Math.Min(lines.Length, i + 100)];
                    await connection.RoundTripAsync(string.Concat(batch.Select(l => l + "\n")), string.Concat(Enumerable.Repeat("ok\n\n", batch.Length)));
                }
            }

            await AssertGetAllAsync(server, ExpectedGetAll);
        }

        // From the log (several segments and snapshots, at 4 KB per segment), then from a fresh snapshot.
        await using (TestServer replayed = await TestServer.StartAsync(data))
        {
            await AssertGetAllAsync(replayed, ExpectedGetAll);
            Assert.IsTrue(replayed.Services.GetRequiredService<MetricStore>().Checkpoint());
        }

        await using TestServer fromSnapshot = await TestServer.StartAsync(data);
        await AssertGetAllAsync(fromSnapshot, ExpectedGetAll);
    }

    [TestMethod]
    public async Task RetentionDropsWholeOldChunksAndRefusesOlderPuts()
    {
        string data = TestServer.NewDataDirectory();
        const int Points = 10_000;
        const int Retention = 3600;
        List<MetricPoint> kept;
        await using (TestServer server = await TestServer.StartAsync(data, "--Metrics:Retention=01:00:00"))
        {
            await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
            {
                await client.PutManyAsync(Enumerable.Range(0, Points).Select(t => new MetricSample("kept", t % 10, t)));
                kept = [.. (await client.GetAsync("kept"))["kept"]];
            }

            long horizon = Points - 1 - Retention;
            Assert.IsLessThanOrEqualTo(horizon, kept[0].Timestamp, "older chunks are gone");
            Assert.IsGreaterThan(horizon - MetricSeries.ChunkPoints, kept[0].Timestamp, "whole chunks only");
            Assert.AreEqual(Points - kept[0].Timestamp, kept.Count);

            await using RawConnection raw = await RawConnection.OpenAsync(server.MetricsEndPoint);
            await raw.RoundTripAsync($"put kept 1 {horizon - 1}\nput kept 2 {horizon}\n", "error\npoint older than the retention window 'Metrics:Retention'\n\nok\n\n");
            await raw.RoundTripAsync("put other 1 5\n", "ok\n\n");
            Assert.IsTrue(server.Services.GetRequiredService<MetricStore>().Checkpoint());
        }

        // The snapshot holds only what was kept (the point at the horizon replaced a value).
        await using TestServer restarted = await TestServer.StartAsync(data, "--Metrics:Retention=01:00:00");
        await using MetricsClient reader = await MetricsClient.ConnectAsync(restarted.MetricsEndPoint);
        IReadOnlyList<MetricPoint> afterRestart = (await reader.GetAsync("kept"))["kept"];
        Assert.AreEqual(kept[0].Timestamp, afterRestart[0].Timestamp);
        Assert.HasCount(kept.Count, afterRestart);
    }

    [TestMethod]
    public async Task AboveTheMemoryLimitPutsGetAnErrorGetsGoOnAndHealthSaysWhy()
    {
        const int Limit = 200_000;
        await using TestServer server = await TestServer.StartAsync(null, $"--Metrics:MaxMemory={Limit}");
        await using RawConnection raw = await RawConnection.OpenAsync(server.MetricsEndPoint);
        await raw.RoundTripAsync("put first 1.5 1\n", "ok\n\n");

        // Every new key costs a few hundred bytes: the limit is reached within a few thousand.
        int stored = 0;
        await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
        {
            MetricsClientException refused = await Assert.ThrowsExactlyAsync<MetricsClientException>(async () =>
            {
                for (; stored < 100_000; stored++)
                {
                    await client.PutAsync($"fill.{stored}", stored, stored);
                }
            });
            Assert.AreEqual(ClientErrorKind.Rejected, refused.ErrorKind);
            StringAssert.Contains(refused.Message, "OOM command not allowed when used memory > 'Metrics:MaxMemory'");
        }

        Assert.IsGreaterThan(100, stored);
        MetricStore store = server.Services.GetRequiredService<MetricStore>();
        long used = store.MemoryUsed;
        Assert.IsGreaterThanOrEqualTo(Limit, used);

        // Puts are refused, overwrites too, nothing is evicted, and reads go on.
        await raw.RoundTripAsync("put first 2.5 1\nput new 1 1\nget first\n", "error\nOOM command not allowed when used memory > 'Metrics:MaxMemory'\n\n"
            + "error\nOOM command not allowed when used memory > 'Metrics:MaxMemory'\n\nok\nfirst 1.5 1\n\n");
        Assert.AreEqual(used, store.MemoryUsed);

        using var http = new HttpClient();
        using JsonDocument health = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.HealthEndPoint.Port}/health")));
        JsonElement metrics = health.RootElement.GetProperty("checks").GetProperty("metrics");
        Assert.AreEqual("Degraded", metrics.GetProperty("status").GetString());
        StringAssert.Contains(metrics.GetProperty("description").GetString(), "puts are refused");
        Assert.AreEqual(Limit, metrics.GetProperty("data").GetProperty("maxMemoryBytes").GetInt64());
        Assert.AreEqual(used, metrics.GetProperty("data").GetProperty("memoryUsedBytes").GetInt64());
    }

    [TestMethod]
    public async Task HealthReportsTheMetricsMemoryAgainstItsLimit()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using (MetricsClient client = await MetricsClient.ConnectAsync(server.MetricsEndPoint))
        {
            await client.PutManyAsync(Enumerable.Range(0, 5000).Select(i => new MetricSample("h", i * 0.5, i)));
        }

        using var http = new HttpClient();
        using JsonDocument health = JsonDocument.Parse(await http.GetStringAsync(new Uri($"http://127.0.0.1:{server.HealthEndPoint.Port}/health")));
        JsonElement metrics = health.RootElement.GetProperty("checks").GetProperty("metrics");
        Assert.AreEqual("Healthy", metrics.GetProperty("status").GetString());
        long used = metrics.GetProperty("data").GetProperty("memoryUsedBytes").GetInt64();
        Assert.IsGreaterThan(0, used);
        Assert.IsLessThan(5000 * 4, used, "5,000 regular points take well under 4 bytes each");
        Assert.AreEqual(GC.GetGCMemoryInfo().TotalAvailableMemoryBytes / 2, metrics.GetProperty("data").GetProperty("maxMemoryBytes").GetInt64(), "0 means half the memory");
    }

    private static async Task AssertGetAllAsync(TestServer server, string expected)
    {
        await using RawConnection connection = await RawConnection.OpenAsync(server.MetricsEndPoint);
        await connection.RoundTripAsync("get *\n", expected);
    }

    private static string MagicOf(string path)
    {
        byte[] magic = new byte[8];
        using FileStream file = File.OpenRead(path);
        return file.ReadAtLeast(magic, 8, throwOnEndOfStream: false) == 8 ? Encoding.ASCII.GetString(magic) : "";
    }
}
