using Grpc.Core;
using Grpc.Health.V1;
using Grpc.Net.Client;
using Grpc.Reflection.V1Alpha;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>Access tokens, the standard health service and reflection on the RTO endpoint.</summary>
[TestClass]
public sealed class RtoAccessTests
{
    [TestMethod]
    [DataRow("")]
    [DataRow("wrong")]
    [DataRow("secret2")]
    public async Task AMissingOrWrongTokenIsPermissionDeniedOnEveryCall(string token)
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Optimization:AccessTokens:0=secret", "--Optimization:AccessTokens:1=other");
        using GrpcChannel channel = Channel(server);
        RtoService.RtoServiceClient rto = RtoServiceOf(channel);
        StartRequest start = SimpleStart();
        start.AccessToken = token;

        await AssertDeniedAsync(() => rto.GetServiceStatusAsync(new ArgRequest { AccessToken = token }).ResponseAsync);
        await AssertDeniedAsync(() => rto.StartOptimizeSessionAsync(start).ResponseAsync);
        await AssertDeniedAsync(() => rto.OptimizeIterationAsync(new OptimizeIterationRequest { AccessToken = token }).ResponseAsync);
        await AssertDeniedAsync(() => rto.PauseAsync(new PauseRequest { AccessToken = token }).ResponseAsync);
        await AssertDeniedAsync(() => rto.StopAsync(new StopRequest { AccessToken = token }).ResponseAsync);
        await AssertDeniedAsync(() => new DataProcessingService.DataProcessingServiceClient(channel).CalculateCVAsync(new CalculateCVRequest { AccessToken = token }).ResponseAsync);
        Assert.IsFalse(Directory.Exists(server.OptimizationSessionsDirectory) && Directory.EnumerateFiles(server.OptimizationSessionsDirectory).Any());
    }

    [TestMethod]
    public async Task AnyConfiguredTokenIsAccepted()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Optimization:AccessTokens:0=secret", "--Optimization:AccessTokens:1=other");
        using GrpcChannel channel = Channel(server);
        RtoService.RtoServiceClient rto = RtoServiceOf(channel);
        StartRequest start = SimpleStart();
        start.AccessToken = "other";

        Assert.AreEqual("Running", (await rto.GetServiceStatusAsync(new ArgRequest { AccessToken = "secret" })).Status);
        Assert.IsTrue((await rto.StartOptimizeSessionAsync(start)).IsGood);
    }

    [TestMethod]
    public async Task WithNoTokensConfiguredAnyTokenPasses()
    {
        await using TestServer server = await TestServer.StartAsync();
        using GrpcChannel channel = Channel(server);

        Assert.AreEqual("Running", (await RtoServiceOf(channel).GetServiceStatusAsync(new ArgRequest { AccessToken = "anything" })).Status);
        Assert.AreEqual("Running", (await RtoServiceOf(channel).GetServiceStatusAsync(new ArgRequest())).Status);
    }

    [TestMethod]
    public async Task TheRtoServicesDoNotAnswerOnTheMessengerPort()
    {
        await using TestServer server = await TestServer.StartAsync();
        using GrpcChannel messenger = GrpcChannel.ForAddress($"http://{server.MessengerAddress}");

        RpcException refused = await Assert.ThrowsExactlyAsync<RpcException>(() => RtoServiceOf(messenger).GetServiceStatusAsync(new ArgRequest()).ResponseAsync);
        RpcException refusedToo = await Assert.ThrowsExactlyAsync<RpcException>(() => new DataProcessingService.DataProcessingServiceClient(messenger).CalculateCVAsync(new CalculateCVRequest()).ResponseAsync);

        Assert.AreEqual(StatusCode.Unimplemented, refused.StatusCode);
        Assert.AreEqual(StatusCode.Unimplemented, refusedToo.StatusCode);
    }

    [TestMethod]
    public async Task TheStandardHealthServiceAnswersServingWithoutAToken()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Optimization:AccessTokens:0=secret");
        using GrpcChannel channel = Channel(server);

        HealthCheckResponse health = await new Grpc.Health.V1.Health.HealthClient(channel).CheckAsync(new HealthCheckRequest());

        Assert.AreEqual(HealthCheckResponse.Types.ServingStatus.Serving, health.Status);
    }

    [TestMethod]
    public async Task ReflectionListsBothRtoServicesBesideTheMessengerAndHealth()
    {
        await using TestServer server = await TestServer.StartAsync();
        using GrpcChannel channel = Channel(server);
        using AsyncDuplexStreamingCall<ServerReflectionRequest, ServerReflectionResponse> call = new ServerReflection.ServerReflectionClient(channel).ServerReflectionInfo();

        await call.RequestStream.WriteAsync(new ServerReflectionRequest { ListServices = "" });
        await call.RequestStream.CompleteAsync();
        Assert.IsTrue(await call.ResponseStream.MoveNext());
        string[] services = [.. call.ResponseStream.Current.ListServicesResponse.Service.Select(s => s.Name)];

        CollectionAssert.IsSubsetOf(new[] { "Grpc.RtoApi.RtoService", "Grpc.RtoApi.DataProcessingService", "grpc.health.v1.Health", "mes_grpc.MessengerServer" }, services);
    }

    private static async Task AssertDeniedAsync<T>(Func<Task<T>> call)
    {
        RpcException denied = await Assert.ThrowsExactlyAsync<RpcException>(call);
        Assert.AreEqual(StatusCode.PermissionDenied, denied.StatusCode);
    }
}
