using System.Diagnostics;
using System.Globalization;
using Rto.Client;
using Rto.Client.Optimization;

// A whole optimization without a plant: the server proposes candidates and its own model
// (CalculateCV) evaluates them. The built-in model parabola4 has its maximum 10 at (2, -3, 4, 1).
//   dotnet run --project samples/Rto.Samples.RtoClosedLoop -- [--address 127.0.0.1:5081] [--method GaussOpt] [--budget 60] [--token T]
string address = Option("--address") ?? "127.0.0.1:5081";
string method = Option("--method") ?? "";
int budget = int.Parse(Option("--budget") ?? "60", CultureInfo.InvariantCulture);

var definition = new OptimizationSessionDefinition(
    [.. Enumerable.Range(1, 4).Select(i => new ManipulatedVariable($"x{i}", -10, 10))],
    [new ControlledVariable("y")],
    budget)
{ Maximize = true, Method = method, ModelId = "parabola4" };

try
{
    await using var client = await OptimizationClient.ConnectAsync(
        GrpcAddress.Parse(address),
        new OptimizationClientOptions { AccessToken = Option("--token") ?? Environment.GetEnvironmentVariable("RTO_ACCESS_TOKEN") });
    string session = await client.StartAsync(definition);
    Console.WriteLine($"Session {session}: maximizing parabola4 with {(method.Length == 0 ? "the default method" : method)}, {budget} evaluations.");
    var clock = Stopwatch.StartNew();
    double best = double.NegativeInfinity;
    OptimizationRunResult result = await client.RunAsync(
        session,
        ["y"],
        async (mvs, ct) =>
        {
            var byId = new Dictionary<string, double>(StringComparer.Ordinal);
            for (int i = 0; i < mvs.Count; i++)
            {
                byId[definition.Mvs[i].Id] = mvs[i];
            }

            OptimizationModelResult value = await client.CalculateCvAsync(session, byId, cancellationToken: ct);
            return (value.Objective, [value.Cvs["y"]], value.Succeeded);
        },
        new Progress<OptimizationRunProgress>(p =>
        {
            bool improved = p.Succeeded && p.Objective > best;
            best = improved ? p.Objective : best;
            if (improved || p.Evaluations % 10 == 0)
            {
                Console.WriteLine($"{p.Evaluations,4}  objective {p.Objective,12:F6}  best {best,12:F6}  at {Format(p.Mvs)}");
            }
        }));

    double[] optimum = [2, -3, 4, 1];
    double distance = Math.Sqrt(result.Mvs.Select((v, i) => (v - optimum[i]) * (v - optimum[i])).Sum());
    Console.WriteLine($"{result.Message} after {result.Evaluations} evaluations in {clock.Elapsed.TotalSeconds:F2} s.");
    Console.WriteLine($"Best MVs {Format(result.Mvs)}, {distance:G3} from the true optimum (2, -3, 4, 1).");
    Console.WriteLine(await client.StopAsync(session));
    return 0;
}
catch (OptimizationClientException ex)
{
    Console.Error.WriteLine($"rto: {ex.Message}");
    return 1;
}

string? Option(string name)
{
    int i = Array.IndexOf(args, name);
    return i >= 0 && i + 1 < args.Length ? args[i + 1] : null;
}

static string Format(IReadOnlyList<double> values) =>
    "(" + string.Join(", ", values.Select(v => v.ToString("F4", CultureInfo.InvariantCulture))) + ")";
