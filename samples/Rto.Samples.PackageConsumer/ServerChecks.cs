using System.Globalization;
using System.Text.Json;
using Rto.Client.Jobs;
using Rto.Client.Messenger;
using Rto.Client.Meters;
using Rto.Client.Metrics;
using Rto.Client.Optimization;
using Rto.Optimization;
using Rto.Optimization.Models;
using Rto.Protocols.Jobs;
using Rto.Protocols.Meters;

namespace Rto.Samples.PackageConsumer;

/// <summary>One round trip with one client; returns what it saw, throws when the server disagrees.</summary>
internal delegate Task<string> ServerCheck(ServerAddress server, CancellationToken cancellationToken);

/// <summary>A round trip per client of the Rto.Client package, and the Rto.Optimization package on its own.</summary>
internal static class ServerChecks
{
    /// <summary>Every check, run in this order. A new client gets its check by adding a line here.</summary>
    public static IReadOnlyList<(string Name, ServerCheck Run)> All { get; } =
    [
        ("metrics", MetricsAsync),
        ("jobs", JobsAsync),
        ("messenger", MessengerAsync),
        ("meters", MetersAsync),
        ("optimization", OptimizationAsync),
        ("optimization-library", (_, _) => Task.FromResult(Optimize())),
    ];

    /// <summary>
    /// The packed Rto.Optimization without the server: a formula model (compiled in the package)
    /// bound to a problem with a continuous, an integer and a bool variable and a limit that binds,
    /// optimized by the default method. The constrained minimum is x = 1.5, n = 4, on = 1.
    /// </summary>
    private static string Optimize()
    {
        FormulaModel model = FormulaModel.Parse(
            "bowl", "inputs: x, n, on\ncv load = x * (1 + on)\nobjective = (x - 2)^2 + (n - 4)^2 - 2*on\n", "bowl.model");
        var problem = new OptimizationProblem(
            [DecisionVariable.Continuous("x", -5, 5), DecisionVariable.Integer("n", 0, 10), DecisionVariable.Bool("on")],
            [Constraint.AtMost("load", 3)],
            maximize: false,
            maxEvaluations: 60);
        if (!ModelBinding.TryCreate(model, problem, out ModelBinding? binding, out string? error))
        {
            throw new InvalidOperationException(error);
        }

        Optimizer optimizer = Optimizer.Create(OptimizationMethods.TrustRegion, problem, seed: 42);
        while (!optimizer.IsBudgetSpent)
        {
            double[] candidate = optimizer.Ask();
            optimizer.Tell(candidate, binding.EvaluateCandidate(candidate));
        }

        EvaluatedCandidate best = optimizer.Best ?? throw new InvalidOperationException("no best point after the budget");
        double[] expected = [1.5, 4, 1];
        return best.IsFeasible && best.Candidate.Zip(expected).All(p => Math.Abs(p.First - p.Second) < 1e-6)
            ? string.Create(CultureInfo.InvariantCulture, $"{optimizer.Evaluations} evaluations, best (evaluation {best.Number}) at ({string.Join(", ", best.Candidate)}), objective {best.Objective}")
            : throw new InvalidOperationException(string.Create(CultureInfo.InvariantCulture, $"the best point is ({string.Join(", ", best.Candidate)}), {(best.IsFeasible ? "feasible" : "infeasible")}, not (1.5, 4, 1)"));
    }

    private static async Task<string> OptimizationAsync(ServerAddress server, CancellationToken cancellationToken)
    {
        // A small optimization evaluated by the server's built-in parabola4 model (maximum 10).
        await using var client = await OptimizationClient.ConnectAsync(server.Host, server.OptimizationPort, cancellationToken: cancellationToken);
        var definition = new OptimizationSessionDefinition(
            [.. Enumerable.Range(1, 4).Select(i => new ManipulatedVariable($"x{i}", -10, 10))], [new ControlledVariable("y")], MaxIterations: 20)
        { Maximize = true, ModelId = "parabola4" };
        string session = await client.StartAsync(definition, cancellationToken);
        OptimizationRunResult result = await client.RunAsync(
            session,
            ["y"],
            async (mvs, ct) =>
            {
                OptimizationModelResult value = await client.CalculateCvAsync(session, definition.Mvs.Select((mv, i) => (mv.Id, mvs[i])).ToDictionary(), cancellationToken: ct);
                return (value.Objective, [value.Cvs["y"]], value.Succeeded);
            },
            cancellationToken: cancellationToken);
        await client.StopAsync(session, cancellationToken);
        return result.Evaluations == 20 && result.IsFeasible && result.Mvs.Count == 4
            ? $"session {session}: {result.Evaluations} evaluations through CalculateCV, {result.Message}"
            : throw new InvalidOperationException($"the session ended after {result.Evaluations} evaluations: {result.Message}");
    }

    private static async Task<string> MetricsAsync(ServerAddress server, CancellationToken cancellationToken)
    {
        // A key of its own, so earlier runs against the same server do not change the answer.
        string key = $"consumer.{Guid.NewGuid():N}";
        await using var client = await MetricsClient.ConnectAsync(server.Host, server.MetricsPort, cancellationToken: cancellationToken);
        await client.PutAsync(key, 81.5, 1_700_000_000, cancellationToken);
        await client.PutAsync(key, 82.25, 1_700_000_060, cancellationToken);
        IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> series = await client.GetAsync(key, cancellationToken);
        MetricPoint[] expected = [new(1_700_000_000, 81.5), new(1_700_000_060, 82.25)];
        if (!series.TryGetValue(key, out IReadOnlyList<MetricPoint>? points) || !points.SequenceEqual(expected))
        {
            throw new InvalidOperationException($"get {key} returned {Describe(series)}, expected the two points just put.");
        }

        return $"put 2 points, got them back under {key}";
    }

    private static async Task<string> JobsAsync(ServerAddress server, CancellationToken cancellationToken)
    {
        await using var client = await JobsClient.ConnectAsync(server.Host, server.JobsPort, cancellationToken: cancellationToken);
        JobResponse status = await client.InfoAsync(InfoRequests.Status, cancellationToken);
        return status.IsComplete
            ? $"Info Status: {status.DiscriptionText}"
            : throw new InvalidOperationException($"Info Status answered {status.Status}: {status.DiscriptionText}");
    }

    private static async Task<string> MessengerAsync(ServerAddress server, CancellationToken cancellationToken)
    {
        await using var client = await MessengerClient.ConnectAsync(server.Host, server.MessengerPort, cancellationToken: cancellationToken);
        using MessageSubscription subscription = await client.SubscribeAsync(cancellationToken);
        string text = $"hello from the package consumer {Guid.NewGuid():N}";
        await client.SendAsync("package-consumer", text, cancellationToken);

        // Other clients may be chatting on the same server: wait for this message among theirs.
        await foreach (ChatMessage message in subscription.ReadAllAsync(cancellationToken))
        {
            if (message.Text == text)
            {
                return $"sent and received one message at {message.SendTimeText}";
            }
        }

        throw new InvalidOperationException("The message stream ended before the sent message came back.");
    }

    private static async Task<string> MetersAsync(ServerAddress server, CancellationToken cancellationToken)
    {
        // The meters protocol has no replies: the HTTP counters show whether the readings arrived.
        using var http = new HttpClient { BaseAddress = new Uri($"http://{server.Host}:{server.MetersHttpPort}/") };
        long acceptedBefore = await AcceptedAsync(http, cancellationToken);

        // 10.0.0.1 is a 0..110 V voltmeter in the server's sample registry (meters.tsv).
        uint voltmeter = MetersClient.ParseIPv4("10.0.0.1");
        long now = MeterTimestamp.FromDateTime(DateTime.Now);
        MeterReading[] readings = [.. Enumerable.Range(0, 5).Select(i => new MeterReading(voltmeter, now + (i * 1000), 100 + i))];
        await using (var meters = await MetersClient.ConnectAsync(server.Host, server.MetersPort, cancellationToken: cancellationToken))
        {
            await meters.SendManyAsync(readings, cancellationToken);
            await meters.FlushAsync(cancellationToken);
        }

        // The server counts a batch after parsing it; a short poll bounds that delay.
        long accepted = acceptedBefore;
        for (int attempt = 0; attempt < 50 && accepted < acceptedBefore + readings.Length; attempt++)
        {
            await Task.Delay(100, cancellationToken);
            accepted = await AcceptedAsync(http, cancellationToken);
        }

        return accepted >= acceptedBefore + readings.Length
            ? $"sent {readings.Length} readings, server accepted count {acceptedBefore} -> {accepted}"
            : throw new InvalidOperationException($"Sent {readings.Length} readings but the accepted count went only from {acceptedBefore} to {accepted} in 5 s.");
    }

    private static async Task<long> AcceptedAsync(HttpClient http, CancellationToken cancellationToken)
    {
        using JsonDocument counters = JsonDocument.Parse(await http.GetStringAsync(new Uri("meters/counters", UriKind.Relative), cancellationToken));
        return counters.RootElement.GetProperty("accepted").GetInt64();
    }

    private static string Describe(IReadOnlyDictionary<string, IReadOnlyList<MetricPoint>> series) =>
        series.Count == 0
            ? "nothing"
            : string.Join("; ", series.Select(s => $"{s.Key}: " + string.Join(", ", s.Value.Select(p => string.Create(CultureInfo.InvariantCulture, $"{p.Value}@{p.Timestamp}")))));
}
