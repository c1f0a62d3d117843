using Rto.Client.Optimization;
using Rto.Protocols.Jobs;
using Rto.Client.Jobs;

namespace Rto.Server.Tests.Console;

/// <summary>With <c>Telemetry:OtlpEndpoint</c> set, the instruments and the spans of gRPC calls and jobs reach an OTLP collector.</summary>
[TestClass]
public sealed class OtlpExportTests
{
    [TestMethod]
    public async Task Metrics_and_spans_of_grpc_calls_and_jobs_reach_the_collector()
    {
        await using OtlpCollectorStub collector = await OtlpCollectorStub.StartAsync();
        await using TestServer server = await TestServer.StartAsync(
            null, $"--Telemetry:OtlpEndpoint={collector.Address}", "--Telemetry:OtlpProtocol=HttpProtobuf", "--Telemetry:ExportInterval=00:00:00.2", "--Telemetry:ServiceName=rto-under-test");

        await using (RawConnection metrics = await RawConnection.OpenAsync(server.MetricsEndPoint))
        {
            await metrics.SendAsync("put otlp.a 1 1700000000\nput otlp.a 2 1700000001\nbad\n");
            await metrics.ExpectAsync("ok\n\nok\n\nerror\nwrong command\n\n");
        }

        await using (var optimization = await OptimizationClient.ConnectAsync("127.0.0.1", server.OptimizationEndPoint.Port))
        {
            await optimization.GetStatusAsync();
        }

        JobResponse job = await JobsClient.SendOnceAsync(server.JobsEndPoint, new JobRequest { Directory = server.JobsRoot, Base = "absent.parquet", File = "absent.task" });
        Assert.IsFalse(job.IsComplete);

        await WaitForAsync(() => collector.Metrics.Any(m => m.Scope == "Rto.Server" && m.Name == "rto.requests" && m.Attributes.GetValueOrDefault("endpoint") == "metrics" && m.Value == 3), "rto.requests of the metrics endpoint, 3");
        Assert.IsTrue(collector.Metrics.Any(m => m.Name == "rto.errors" && m.Attributes.GetValueOrDefault("reason") == "malformed" && m.Value == 1), "rto.errors by reason");

        await WaitForAsync(() => collector.Spans.Any(s => s.Scope == "Rto.Server" && s.Name == "job" && s.Attributes.GetValueOrDefault("rto.job.file") == "absent.task"), "the job's span");
        await WaitForAsync(() => collector.Spans.Any(s => s.Scope == "Microsoft.AspNetCore" && s.Name == "Grpc.RtoApi.RtoService/GetServiceStatus"), "the gRPC call's span");
        OtlpCollectorStub.ExportedSpan call = collector.Spans.First(s => s.Name == "Grpc.RtoApi.RtoService/GetServiceStatus");
        Assert.AreEqual("grpc", call.Attributes["rpc.system"]);
        Assert.AreEqual("GetServiceStatus", call.Attributes["rpc.method"]);
        Assert.AreEqual("optimization", call.Attributes["rto.endpoint"]);
        Assert.AreEqual("0", call.Attributes["grpc.status_code"]);
    }

    [TestMethod]
    [DataRow("--Telemetry:OtlpEndpoint=collector:4317", "Telemetry:OtlpEndpoint")]
    [DataRow("--Telemetry:ExportInterval=00:00:00", "Telemetry:ExportInterval")]
    public void A_bad_telemetry_setting_stops_the_start_with_its_name(string setting, string named)
    {
        InvalidOperationException refused = Assert.ThrowsExactly<InvalidOperationException>(() => Rto.Server.Hosting.RtoServer.Build([setting]));
        StringAssert.Contains(refused.Message, named);
    }

    private static async Task WaitForAsync(Func<bool> arrived, string what)
    {
        for (long deadline = Environment.TickCount64 + 60_000; !arrived(); await Task.Delay(50))
        {
            Assert.IsLessThan(deadline, Environment.TickCount64, $"{what} did not reach the collector");
        }
    }
}
