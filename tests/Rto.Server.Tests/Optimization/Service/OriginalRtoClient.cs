using Grpc.RtoApi;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>
/// A client shaped exactly like the original RTO service's client (BlackBoxOptimisation, branch
/// client-with-nb, client.py), written anew here: it declares the objective as its first CV
/// ("Target Function", bounds ±1e100) followed by 13 limited CVs, sends <c>model_id =
/// "optimization_model"</c>, and for every evaluation makes two calls: one with only the MV tag ids
/// (to get the candidate), one with the MVs, the CVs by tag id and the objective in
/// <c>objective_function_value</c> under the first CV's id, never setting isGood or timeStamp. It
/// stops when a reply has flag 3. Its plant is the linear model that client evaluates: 6 MVs, 13 CVs
/// linear around a base point, profit 40000·CV13 − 65000·MV5 − 45000·MV6, maximized.
/// </summary>
internal sealed class OriginalRtoClient(RtoService.RtoServiceClient rto)
{
    public const string TargetId = "36127bf6-bf83-45c0-a4e1-65d2a1c20c22";

    /// <summary>The LP optimum of the plant within the 13 CV limits and the MV bounds (scipy HiGHS linprog).</summary>
    public const double LpOptimum = 2395999.989;

    private static readonly double[] BaseMvs = [14.1, 15.7, 34.7, 98.7, 0.93, 0.43];

    private static readonly (double Value, double[] Gain, double Lower, double Upper)[] PlantCvs =
    [
        (13.5, [0.964, 0, 0, 0, 0, 0], 9, 16.5),
        (14.1, [1, 0, 0, 0, 0, 0], 9.4, 17.2),
        (83.5, [1.4, 0, 0, 0, 0, 0], 81.5, 88.5),
        (90.3, [-0.4, 0, 0, 0, 0, 0], 89, 91),
        (15.7, [0, 1, 0, 0, 0, 0], 12.3, 22.6),
        (100, [0, -0.5, 0.5, 0, 0, 0], 85, 140),
        (30.5, [0, 0, 0.88, -2.65, 0, 0], 19.6, 36),
        (34.7, [0, 0, 1, 0, 0, 0], 28, 40),
        (1.145, [0, 0, 0.033, 0.01, 0, 0], 0.28, 1.16),
        (0.95, [-0.0218, -0.015, 0.0288, 0.109, 0.0655, -0.0218], 0.85, 1),
        (20, [-0.546, -0.382, 0.721, 0.719, 0.764, -0.546], 10, 25),
        (95, [-0.109, -0.546, 0.0546, 0.625, 0.371, -0.109], 95, 99),
        (61.1, [0.962, 1, 0.88, 0, 0, 0], 33.3, 59.9),
    ];

    private static readonly (double Lower, double Upper)[] MvBounds = [(9.4, 17.2), (12.3, 22.6), (28, 40), (94, 101), (0.0000001, 2.8), (0.0000001, 1.3)];

    /// <summary>Evaluations made (pairs of calls).</summary>
    public int Evaluations { get; private set; }

    /// <summary>[objective, CV1..CV13] at <paramref name="mvs"/>, as the original client's model returns them.</summary>
    public static double[] Evaluate(IReadOnlyList<double> mvs)
    {
        var outputs = new double[PlantCvs.Length + 1];
        for (int i = 0; i < PlantCvs.Length; i++)
        {
            double value = PlantCvs[i].Value;
            for (int j = 0; j < BaseMvs.Length; j++)
            {
                value += PlantCvs[i].Gain[j] * (mvs[j] - BaseMvs[j]);
            }

            outputs[i + 1] = value;
        }

        outputs[0] = (40000 * outputs[13]) - (65000 * mvs[4]) - (45000 * mvs[5]);
        return outputs;
    }

    /// <summary>The CV limits <paramref name="outputs"/> (from <see cref="Evaluate"/>) break, as "cvN=value".</summary>
    public static List<string> BrokenLimits(double[] outputs)
    {
        var broken = new List<string>();
        for (int i = 0; i < PlantCvs.Length; i++)
        {
            double value = outputs[i + 1];
            if (value < PlantCvs[i].Lower || value > PlantCvs[i].Upper)
            {
                broken.Add($"cv{i + 1}={value} outside [{PlantCvs[i].Lower}, {PlantCvs[i].Upper}]");
            }
        }

        return broken;
    }

    public static StartRequest StartRequest(string method, int maxIterations = 1000)
    {
        var request = new StartRequest { Maximize = true, OptimizationMethod = method, MaxIterations = maxIterations, ModelId = "optimization_model" };
        request.Cvs.Add(new TagType { Id = TargetId, Name = "Target Function", DataType = "Numeric", LowerBound = -1e100, UpperBound = 1e100 });
        for (int i = 0; i < PlantCvs.Length; i++)
        {
            request.Cvs.Add(new TagType { Id = $"cv{i + 1}", Name = $"Y{i + 1}", DataType = "Numeric", LowerBound = PlantCvs[i].Lower, UpperBound = PlantCvs[i].Upper });
        }

        for (int i = 0; i < MvBounds.Length; i++)
        {
            request.Mvs.Add(new TagType { Id = $"mv{i + 1}", Name = $"X{i + 1}", DataType = "Numeric", LowerBound = MvBounds[i].Lower, UpperBound = MvBounds[i].Upper });
        }

        return request;
    }

    /// <summary>Starts a session and runs it to flag 3 (or <paramref name="maxEvaluations"/>); returns the final MVs.</summary>
    public async Task<double[]> RunAsync(string method, int maxIterations = 1000, int maxEvaluations = int.MaxValue)
    {
        StartResponse started = await rto.StartOptimizeSessionAsync(StartRequest(method, maxIterations));
        Assert.IsTrue(started.IsGood, started.Message);
        string session = started.OptimizationInstanceId;
        string[] mvIds = [.. Enumerable.Range(1, MvBounds.Length).Select(i => $"mv{i}")];
        while (Evaluations < maxEvaluations)
        {
            var ask = new OptimizeIterationRequest { OptimizationInstanceId = session };
            ask.MvValues.AddRange(mvIds.Select(id => new TagVal { TagId = id }));
            OptimizeIterationResponse candidate = await rto.OptimizeIterationAsync(ask);
            double[] mvs = [.. candidate.MvValues.Select(v => v.NumericValue)];
            Assert.HasCount(mvIds.Length, mvs, candidate.Message);

            double[] outputs = Evaluate(mvs);
            var report = new OptimizeIterationRequest
            {
                OptimizationInstanceId = session,
                ObjectiveFunctionValue = new TagVal { TagId = TargetId, NumericValue = outputs[0] },
            };
            report.MvValues.AddRange(mvIds.Select((id, i) => new TagVal { TagId = id, NumericValue = mvs[i] }));
            report.CvValues.AddRange(Enumerable.Range(1, PlantCvs.Length).Select(i => new TagVal { TagId = $"cv{i}", NumericValue = outputs[i] }));
            OptimizeIterationResponse reply = await rto.OptimizeIterationAsync(report);
            Evaluations++;
            if (reply.Flag == IterationFlag.Completed)
            {
                return [.. reply.MvValues.Select(v => v.NumericValue)];
            }

            Assert.AreEqual(IterationFlag.Candidate, reply.Flag, reply.Message);
        }

        return [];
    }
}
