using System.Globalization;
using Grpc.RtoApi;
using Rto.Client;
using Rto.Client.Optimization;
using Spectre.Console;

// Drives RTO sessions by hand, one call at a time, as a plant engineer would when the "model"
// is a test run on the plant:  dotnet run --project samples/Rto.Samples.RtoConsole -- [address] [token]
string address = args.Length > 0 ? args[0] : "127.0.0.1:5081";
string? token = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("RTO_ACCESS_TOKEN");
if (!AnsiConsole.Profile.Capabilities.Interactive)
{
    // The prompts read keys; with input redirected there is nothing to read them from.
    Console.Error.WriteLine("The RTO console asks for its inputs interactively: run it in a terminal. For scripted runs use OptimizationClient (see samples/Rto.Samples.RtoClosedLoop).");
    return 2;
}

if (await TryConnectAsync(address, token) is not { } connected)
{
    return 1;
}

await using OptimizationClient client = connected;
var sessions = new Dictionary<string, OptimizationSessionDefinition>(StringComparer.Ordinal);
string? current = null;

AnsiConsole.Write(new Rule($"RTO console — {address}"));
const string StartItem = "1. StartOptimizeSession", IterateItem = "2. OptimizeIteration", StopItem = "3. Stop", PauseItem = "4. Pause",
    StatusItem = "5. GetServiceStatus", CalculateItem = "6. CalculateCV", ExitItem = "0. Exit";
while (true)
{
    string choice = AnsiConsole.Prompt(new SelectionPrompt<string>()
        .Title(current is null ? "What next?" : $"What next? (current session [green]{current}[/])")
        .AddChoices(StartItem, IterateItem, StopItem, PauseItem, StatusItem, CalculateItem, ExitItem));
    try
    {
        switch (choice)
        {
            case StartItem:
                OptimizationSessionDefinition definition = AskDefinition();
                current = await client.StartAsync(definition);
                sessions[current] = definition;
                AnsiConsole.MarkupLine($"Started session [green]{current}[/].");
                break;
            case IterateItem:
                current = AskSession(current);
                await IterateAsync(current);
                break;
            case StopItem:
                current = AskSession(current);
                AnsiConsole.MarkupLineInterpolated($"{await client.StopAsync(current)}");
                sessions.Remove(current);
                current = null;
                break;
            case PauseItem:
                current = AskSession(current);
                AnsiConsole.MarkupLine(await client.PauseAsync(current) ? "The session is paused; the next OptimizeIteration resumes it." : "[red]Not paused: the server does not know this session.[/]");
                break;
            case StatusItem:
                ServiceStatus status = await client.GetStatusAsync();
                AnsiConsole.MarkupLineInterpolated($"status [green]{status.Status}[/], service type {status.ServiceType}, id '{status.ServiceId}', user '{status.User}', message '{status.Message}'");
                break;
            case CalculateItem:
                current = AskSession(current);
                await CalculateAsync(current);
                break;
            default:
                return 0;
        }
    }
    catch (OptimizationClientException ex)
    {
        AnsiConsole.MarkupLineInterpolated($"[red]{ex.Message}[/]");
    }
}

OptimizationSessionDefinition AskDefinition()
{
    if (AnsiConsole.Confirm("Use the example (built-in model parabola4: x1..x4 in [[-10, 10]], maximize, 60 iterations)?"))
    {
        return new OptimizationSessionDefinition(
            [.. Enumerable.Range(1, 4).Select(i => new ManipulatedVariable($"x{i}", -10, 10))],
            [new ControlledVariable("y")],
            60)
        { Maximize = true, ModelId = "parabola4" };
    }

    var mvs = new List<ManipulatedVariable>();
    int mvCount = AnsiConsole.Prompt(new TextPrompt<int>("How many MVs?").Validate(n => n > 0));
    for (int i = 1; i <= mvCount; i++)
    {
        string id = AnsiConsole.Ask<string>($"MV {i} id:");
        OptimizationVariableType type = AnsiConsole.Prompt(new SelectionPrompt<OptimizationVariableType>().Title($"{Markup.Escape(id)} type").AddChoices(Enum.GetValues<OptimizationVariableType>()));
        double lower = type == OptimizationVariableType.Bool ? 0 : AnsiConsole.Ask<double>($"{Markup.Escape(id)} lower bound:");
        double upper = type == OptimizationVariableType.Bool ? 1 : AnsiConsole.Ask<double>($"{Markup.Escape(id)} upper bound:");
        mvs.Add(new ManipulatedVariable(id, lower, upper, type));
    }

    var cvs = new List<ControlledVariable>();
    int cvCount = AnsiConsole.Prompt(new TextPrompt<int>("How many CVs?").DefaultValue(0).Validate(n => n >= 0));
    for (int i = 1; i <= cvCount; i++)
    {
        string id = AnsiConsole.Ask<string>($"CV {i} id:");
        cvs.Add(new ControlledVariable(id, AskLimit($"{Markup.Escape(id)} lower limit (empty: none):", double.MinValue), AskLimit($"{Markup.Escape(id)} upper limit (empty: none):", double.MaxValue)));
    }

    bool maximize = AnsiConsole.Confirm("Maximize the objective?", defaultValue: false);
    string method = AnsiConsole.Prompt(new SelectionPrompt<string>().Title("Optimization method")
        .AddChoices("(default)", "GaussOpt", "SimulatedAnnealingOpt", "EvolutionaryOpt", "TestStepOpt", "Genetic_Algo"));
    int budget = AnsiConsole.Prompt(new TextPrompt<int>("max_iterations:").DefaultValue(50).Validate(n => n > 0));
    string model = AnsiConsole.Prompt(new TextPrompt<string>("model_id for CalculateCV (empty: none):").AllowEmpty());
    return new OptimizationSessionDefinition(mvs, cvs, budget)
    {
        Maximize = maximize,
        Method = method == "(default)" ? "" : method,
        ModelId = model.Length == 0 ? null : model,
    };
}

static double AskLimit(string question, double none)
{
    string text = AnsiConsole.Prompt(new TextPrompt<string>(question).AllowEmpty()
        .Validate(t => t.Length == 0 || double.TryParse(t, CultureInfo.InvariantCulture, out _), "a number, or empty for no limit"));
    return text.Length == 0 ? none : double.Parse(text, CultureInfo.InvariantCulture);
}

string AskSession(string? suggestion)
{
    TextPrompt<string> prompt = new("Session id:");
    if (suggestion is not null)
    {
        prompt.DefaultValue(suggestion);
    }

    return AnsiConsole.Prompt(prompt).Trim();
}

async Task IterateAsync(string session)
{
    OptimizationEvaluation? evaluation = null;
    if (AnsiConsole.Confirm("Report the evaluation of the outstanding candidate? (no: get the first candidate, or the same one again)", defaultValue: true))
    {
        double objective = AnsiConsole.Ask<double>("Objective value:");
        bool ok = AnsiConsole.Confirm("Did the evaluation succeed (isGood)?", defaultValue: true);
        var cvs = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string id in CvIds(session))
        {
            cvs[id] = AnsiConsole.Ask<double>($"{Markup.Escape(id)} value:");
        }

        evaluation = new OptimizationEvaluation(objective, cvs, ok);
    }

    OptimizationIteration reply = await client.IterateAsync(session, evaluation);
    string state = reply.State switch
    {
        OptimizationIterationState.Completed => "[green]completed: the best point found[/]",
        OptimizationIterationState.Resumed => "[yellow]resumed after pause; evaluate this candidate[/]",
        _ => "evaluate this candidate",
    };
    AnsiConsole.MarkupLine($"flag {(int)reply.State}: {state}");
    if (reply.Message.Length != 0)
    {
        AnsiConsole.MarkupLineInterpolated($"message: {reply.Message}");
    }

    ShowMvs(session, reply.Mvs);
}

async Task CalculateAsync(string session)
{
    var mvs = new Dictionary<string, double>(StringComparer.Ordinal);
    IEnumerable<string> ids = sessions.TryGetValue(session, out OptimizationSessionDefinition? definition)
        ? definition.Mvs.Select(mv => mv.Id)
        : AnsiConsole.Ask<string>("MV ids, comma-separated:").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
    foreach (string id in ids)
    {
        mvs[id] = AnsiConsole.Ask<double>($"{Markup.Escape(id)} value:");
    }

    string model = AnsiConsole.Prompt(new TextPrompt<string>("model_id (empty: the session's):").AllowEmpty());
    OptimizationModelResult result = await client.CalculateCvAsync(session, mvs, model.Length == 0 ? null : model);
    if (!result.Succeeded)
    {
        AnsiConsole.MarkupLineInterpolated($"[red]{result.Message}[/]");
        return;
    }

    var table = new Table().AddColumns("CV", "value");
    foreach ((string id, double value) in result.Cvs)
    {
        table.AddRow(Markup.Escape(id), value.ToString("G10", CultureInfo.InvariantCulture));
    }

    table.AddRow("[bold]objective[/]", result.Objective.ToString("G10", CultureInfo.InvariantCulture));
    AnsiConsole.Write(table);
}

IEnumerable<string> CvIds(string session) =>
    sessions.TryGetValue(session, out OptimizationSessionDefinition? definition)
        ? definition.Cvs.Select(cv => cv.Id)
        : AnsiConsole.Prompt(new TextPrompt<string>("CV ids of this session, comma-separated (empty: none):").AllowEmpty())
            .Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

void ShowMvs(string session, IReadOnlyList<double> values)
{
    var table = new Table().AddColumns("MV", "value");
    for (int i = 0; i < values.Count; i++)
    {
        string id = sessions.TryGetValue(session, out OptimizationSessionDefinition? definition) && i < definition.Mvs.Count ? definition.Mvs[i].Id : $"#{i + 1}";
        table.AddRow(Markup.Escape(id), values[i].ToString("G10", CultureInfo.InvariantCulture));
    }

    AnsiConsole.Write(table);
}

static async Task<OptimizationClient?> TryConnectAsync(string address, string? token)
{
    try
    {
        return await OptimizationClient.ConnectAsync(GrpcAddress.Parse(address), new OptimizationClientOptions { AccessToken = token });
    }
    catch (Exception ex) when (ex is OptimizationClientException or ArgumentException)
    {
        Console.Error.WriteLine($"rto: {ex.Message}");
        return null;
    }
}
