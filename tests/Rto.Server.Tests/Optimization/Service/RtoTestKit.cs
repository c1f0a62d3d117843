using Grpc.Net.Client;
using Grpc.RtoApi;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>Channels, requests and session-file reads shared by the RTO service tests.</summary>
internal static class RtoTestKit
{
    public const double NoLimit = double.MaxValue;

    public static GrpcChannel Channel(TestServer server) => GrpcChannel.ForAddress($"http://{server.OptimizationAddress}");

    public static RtoService.RtoServiceClient RtoServiceOf(GrpcChannel channel) => new(channel);

    public static TagType Mv(string id, double lower, double upper, string type = "Numeric") =>
        new() { Id = id, Name = id, DataType = type, LowerBound = lower, UpperBound = upper };

    public static TagType Cv(string id, double lower = -NoLimit, double upper = NoLimit) =>
        new() { Id = id, Name = id, DataType = "Numeric", LowerBound = lower, UpperBound = upper };

    /// <summary>Two numeric MVs on [-5, 5], one CV <c>c</c> on [0, 1], minimize, <paramref name="iterations"/> evaluations.</summary>
    public static StartRequest SimpleStart(int iterations = 5)
    {
        var request = new StartRequest { MaxIterations = iterations, OptimizationMethod = "GaussOpt" };
        request.Mvs.Add(Mv("a", -5, 5));
        request.Mvs.Add(Mv("b", -5, 5));
        request.Cvs.Add(Cv("c", 0, 1));
        return request;
    }

    /// <summary>The parabola4 problem: MVs x1..x4 on [-10, 10], CV y unlimited, maximize.</summary>
    public static StartRequest Parabola4Start(int iterations, string modelId = "parabola4")
    {
        var request = new StartRequest { MaxIterations = iterations, Maximize = true, ModelId = modelId };
        foreach (string x in (string[])["x1", "x2", "x3", "x4"])
        {
            request.Mvs.Add(Mv(x, -10, 10));
        }

        request.Cvs.Add(Cv("y"));
        return request;
    }

    public static async Task<string> StartAsync(RtoService.RtoServiceClient rto, StartRequest request)
    {
        StartResponse response = await rto.StartOptimizeSessionAsync(request);
        Assert.IsTrue(response.IsGood, response.Message);
        return response.OptimizationInstanceId;
    }

    public static OptimizeIterationRequest Ask(string session) => new() { OptimizationInstanceId = session };

    /// <summary>An iteration reporting <paramref name="objective"/> and CV values by id.</summary>
    public static OptimizeIterationRequest Report(string session, double objective, bool ok = true, params (string Id, double Value)[] cvs)
    {
        var request = new OptimizeIterationRequest
        {
            OptimizationInstanceId = session,
            // With a timeStamp, as Rto's client sends it: isGood = false then means a failed evaluation.
            ObjectiveFunctionValue = new TagVal { TagId = "objective", NumericValue = objective, IsGood = ok, TimeStamp = 1 },
        };
        foreach ((string id, double value) in cvs)
        {
            request.CvValues.Add(new TagVal { TagId = id, NumericValue = value, IsGood = true });
        }

        return request;
    }

    public static double[] Values(OptimizeIterationResponse response) => [.. response.MvValues.Select(v => v.NumericValue)];

    public static string SessionFile(TestServer server, string session) => Path.Combine(server.OptimizationSessionsDirectory, session + ".session");

    public static string[] EvaluationLines(string path) => [.. File.ReadAllLines(path).Where(l => l.StartsWith("evaluation\t", StringComparison.Ordinal))];
}
