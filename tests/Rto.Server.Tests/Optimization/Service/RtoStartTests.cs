using Grpc.Net.Client;
using Grpc.RtoApi;
using static Rto.Server.Tests.Optimization.Service.RtoTestKit;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>GetServiceStatus and StartOptimizeSession validation, through a real gRPC channel.</summary>
[TestClass]
public sealed class RtoStartTests
{
    private static TestServer s_server = null!;
    private static GrpcChannel s_channel = null!;

    [ClassInitialize]
    public static async Task StartServer(TestContext context)
    {
        s_server = await TestServer.StartAsync(null, "--Optimization:ServiceId=rto-1", "--Optimization:MaxIterations=1000");
        s_channel = Channel(s_server);
    }

    [ClassCleanup]
    public static async Task StopServer()
    {
        s_channel.Dispose();
        await s_server.DisposeAsync();
    }

    [TestMethod]
    public async Task StatusSaysRunningRtoServiceWithTheConfiguredId()
    {
        ServiceStatus status = await RtoServiceOf(s_channel).GetServiceStatusAsync(new ArgRequest());

        Assert.AreEqual("Running", status.Status);
        Assert.AreEqual("RtoService", status.ServiceType);
        Assert.AreEqual("rto-1", status.ServiceId);
        Assert.AreEqual("", status.User);
    }

    [TestMethod]
    public async Task AValidStartReturnsAGuidAndWritesTheSessionFileHeader()
    {
        StartRequest request = SimpleStart(7);
        request.Cvs.Add(Cv("free")); // ±double.MaxValue: no limit either side
        StartResponse response = await RtoServiceOf(s_channel).StartOptimizeSessionAsync(request);

        Assert.IsTrue(response.IsGood, response.Message);
        Assert.IsTrue(Guid.TryParse(response.OptimizationInstanceId, out _), response.OptimizationInstanceId);
        string[] lines = File.ReadAllLines(SessionFile(s_server, response.OptimizationInstanceId));
        CollectionAssert.Contains(lines, "id: " + response.OptimizationInstanceId);
        CollectionAssert.Contains(lines, "max_iterations: 7");
        CollectionAssert.Contains(lines, "method: GaussOpt");
        CollectionAssert.Contains(lines, "mv\ta\ta\tNumeric\t-5\t5");
        CollectionAssert.Contains(lines, "cv\tfree\tfree\tno limit\tno limit");
        Assert.AreEqual("---", lines[^1]);
    }

    [TestMethod]
    public async Task DataTypesAreAcceptedInAnyLetterCase()
    {
        StartRequest request = SimpleStart();
        request.Mvs.Add(Mv("i", 0, 3, "integer"));
        request.Mvs.Add(Mv("flag", 0, 1, "BOOL"));

        Assert.IsTrue((await RtoServiceOf(s_channel).StartOptimizeSessionAsync(request)).IsGood);
    }

    [TestMethod]
    [DataRow("no MVs", "no MVs")]
    [DataRow("MV lower above upper", "lower bound 5 is greater than upper bound -5")]
    [DataRow("MV NaN bound", "must be finite")]
    [DataRow("MV infinite bound", "must be finite")]
    [DataRow("MV bound the optimizer cannot search", "magnitude below 1e30")]
    [DataRow("unknown dataType", "unknown dataType 'Text'; accepted: Numeric (or Double, Float, Real), Integer (or Int), Bool (or Boolean)")]
    [DataRow("unknown method", "known methods: GaussOpt, SimulatedAnnealingOpt, EvolutionaryOpt, TestStepOpt, Genetic_Algo")]
    [DataRow("negative iterations", "max_iterations must be 0 (no limit: run until Stop) or greater")]
    [DataRow("iterations above the server limit", "exceeds the server's limit of 1000")]
    [DataRow("duplicate MV ids", "duplicate tag id 'a'")]
    [DataRow("MV and CV share an id", "duplicate tag id 'a'")]
    [DataRow("Integer MV without whole number", "no whole number within")]
    [DataRow("CV lower above upper", "CV 'c': lower bound 2 is greater than upper bound 1")]
    [DataRow("empty MV id", "has no id")]
    [DataRow("Bool MV without 0 or 1", "contain neither 0 nor 1")]
    public async Task AnInvalidStartIsRefusedWithAMessageAndCreatesNoSession(string problem, string expected)
    {
        StartRequest request = SimpleStart();
        switch (problem)
        {
            case "no MVs": request.Mvs.Clear(); break;
            case "MV lower above upper": request.Mvs[0].LowerBound = 5; request.Mvs[0].UpperBound = -5; break;
            case "MV NaN bound": request.Mvs[0].LowerBound = double.NaN; break;
            case "MV infinite bound": request.Mvs[1].UpperBound = double.PositiveInfinity; break;
            case "unknown dataType": request.Mvs[0].DataType = "Text"; break;
            case "MV bound the optimizer cannot search": request.Mvs[0].LowerBound = -double.MaxValue; request.Mvs[0].UpperBound = double.MaxValue; break;
            case "unknown method": request.OptimizationMethod = "Magic"; break;
            case "negative iterations": request.MaxIterations = -3; break;
            case "iterations above the server limit": request.MaxIterations = 1001; break;
            case "duplicate MV ids": request.Mvs[1].Id = "a"; break;
            case "MV and CV share an id": request.Cvs[0].Id = "a"; break;
            case "Integer MV without whole number": request.Mvs.Add(Mv("i", 0.2, 0.8, "Integer")); break;
            case "CV lower above upper": request.Cvs[0].LowerBound = 2; break;
            case "empty MV id": request.Mvs[0].Id = ""; break;
            case "Bool MV without 0 or 1": request.Mvs.Add(Mv("flag", 2, 3, "Bool")); break;
            default: Assert.Fail(problem); break;
        }

        int filesBefore = SessionFileCount();
        StartResponse response = await RtoServiceOf(s_channel).StartOptimizeSessionAsync(request);

        Assert.IsFalse(response.IsGood, problem);
        Assert.AreEqual("", response.OptimizationInstanceId);
        StringAssert.Contains(response.Message, expected);
        Assert.AreEqual(filesBefore, SessionFileCount());
    }

    [TestMethod]
    public async Task StartBeyondMaxSessionsIsRefused()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Optimization:MaxSessions=2");
        using GrpcChannel channel = Channel(server);
        RtoService.RtoServiceClient rto = RtoServiceOf(channel);
        string first = await StartAsync(rto, SimpleStart());
        await StartAsync(rto, SimpleStart());

        StartResponse third = await rto.StartOptimizeSessionAsync(SimpleStart());
        Assert.IsFalse(third.IsGood);
        StringAssert.Contains(third.Message, "maximum of 2 sessions");

        await rto.StopAsync(new StopRequest { SessionId = first });
        Assert.IsTrue((await rto.StartOptimizeSessionAsync(SimpleStart())).IsGood, "a stopped session frees its place");
    }

    private static int SessionFileCount() =>
        Directory.Exists(s_server.OptimizationSessionsDirectory) ? Directory.GetFiles(s_server.OptimizationSessionsDirectory).Length : 0;
}
