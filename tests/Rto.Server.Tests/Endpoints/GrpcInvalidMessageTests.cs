using Grpc.Core;
using Grpc.Net.Client;
using Microsoft.Extensions.Logging;
using Rto.Server.Tests.Observability;

namespace Rto.Server.Tests.Endpoints;

/// <summary>
/// Bytes that are not the method's protobuf message (issue 15 item 10) are the caller's mistake:
/// INVALID_ARGUMENT saying what is wrong, counted, and one log line per interval, never an
/// error-level stack trace per call.
/// </summary>
[TestClass]
public sealed class GrpcInvalidMessageTests
{
    private const int Calls = 20;

    // A length-delimited field 1 that claims 16 bytes and brings one.
    private static readonly byte[] s_garbage = [0x0A, 0x10, 0x41];

    private static readonly Marshaller<byte[]> s_bytes = Marshallers.Create(bytes => bytes, bytes => bytes);

    [TestMethod]
    [DataRow("messenger", "mes_grpc.MessengerServer", "SendMessage", MethodType.Unary)]
    [DataRow("messenger", "mes_grpc.MessengerServer", "ReadMessages", MethodType.ServerStreaming)]
    [DataRow("optimization", "Grpc.RtoApi.RtoService", "StartOptimizeSession", MethodType.Unary)]
    [DataRow("optimization", "Grpc.RtoApi.DataProcessingService", "CalculateCV", MethodType.Unary)]
    public async Task A_request_that_is_not_the_methods_message_is_INVALID_ARGUMENT_and_logged_once(string endpoint, string service, string method, MethodType type)
    {
        var log = new LogRecorder();
        await using TestServer server = await TestServer.StartAsync(null, builder => builder.Logging.AddProvider(log), "--Logging:LogLevel:Default=Information");
        using var recorder = new InstrumentRecorder(server.Services);
        using GrpcChannel channel = GrpcChannel.ForAddress($"http://{(endpoint == "messenger" ? server.MessengerAddress : server.OptimizationAddress)}");
        CallInvoker calls = channel.CreateCallInvoker();
        var raw = new Method<byte[], byte[]>(type, service, method, s_bytes, s_bytes);

        for (int i = 0; i < Calls; i++)
        {
            RpcException error = await Assert.ThrowsExactlyAsync<RpcException>(async () =>
            {
                if (type == MethodType.Unary)
                {
                    await calls.AsyncUnaryCall(raw, null, new CallOptions(), s_garbage);
                }
                else
                {
                    using AsyncServerStreamingCall<byte[]> stream = calls.AsyncServerStreamingCall(raw, null, new CallOptions(), s_garbage);
                    await stream.ResponseStream.MoveNext(CancellationToken.None);
                }
            });
            Assert.AreEqual(StatusCode.InvalidArgument, error.StatusCode, error.Status.Detail);
            StringAssert.StartsWith(error.Status.Detail, "The request is not a valid ");
        }

        await recorder.WaitUntilAsync(r => r.Total("rto.errors", endpoint, "invalid_message") == Calls, $"{Calls} invalid_message errors");
        Assert.IsEmpty(log.Find("", LogLevel.Error), "no error-level log: " + log.Describe());
        Assert.IsEmpty(log.Find("Grpc.AspNetCore.Server"), "gRPC's own line per failed call stays below the level logged: " + log.Describe());
        LogRecorder.Entry[] warnings = log.Find("Rto.Server", LogLevel.Warning);
        Assert.HasCount(1, warnings, log.Describe());
        StringAssert.Contains(warnings[0].Message, endpoint);
        StringAssert.Contains(warnings[0].Message, method);
        Assert.IsNull(warnings[0].Exception, "no stack trace");
    }

    [TestMethod]
    public async Task A_valid_request_is_still_served()
    {
        await using TestServer server = await TestServer.StartAsync();
        using GrpcChannel channel = GrpcChannel.ForAddress($"http://{server.OptimizationAddress}");
        var client = new Grpc.RtoApi.RtoService.RtoServiceClient(channel);

        Grpc.RtoApi.ServiceStatus status = await client.GetServiceStatusAsync(new Grpc.RtoApi.ArgRequest());

        Assert.AreEqual("Running", status.Status);
    }
}
