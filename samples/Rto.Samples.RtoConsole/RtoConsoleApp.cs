using System.Globalization;
using Grpc.RtoApi;
using Rto.Client.Optimization;

namespace Rto.Samples.RtoConsole;

/// <summary>
/// The RTO service's console menu, one call at a time: <c>1. StartOptimizeSession 2. OptimizeIteration
/// 3. Stop 4. Pause</c>, plus <c>5. GetServiceStatus 6. CalculateCV 0. Exit</c>. Typing the number
/// selects; every question is one line, so the console runs from a terminal or from piped stdin
/// (<c>printf '5\n0\n' | dotnet run --project samples/Rto.Samples.RtoConsole</c>). An empty answer
/// takes the default shown in brackets; the end of the input exits.
/// </summary>
public sealed class RtoConsoleApp(OptimizationClient client, TextReader input, TextWriter output, bool echo = false)
{
    /// <summary>The menu, as printed.</summary>
    public static readonly string Menu = string.Join('\n',
        "1. StartOptimizeSession",
        "2. OptimizeIteration",
        "3. Stop",
        "4. Pause",
        "5. GetServiceStatus",
        "6. CalculateCV",
        "0. Exit");

    private readonly Dictionary<string, OptimizationSessionDefinition> _sessions = new(StringComparer.Ordinal);
    private string? _current;

    /// <summary>Shows the menu and runs the chosen calls until 0 or the end of the input; returns the exit code (0).</summary>
    public async Task<int> RunAsync(CancellationToken cancellationToken = default)
    {
        try
        {
            while (true)
            {
                output.WriteLine();
                output.WriteLine(Menu);
                string choice = Ask(_current is null ? "Choose 0-6" : $"Choose 0-6 (current session {_current})");
                if (choice == "0")
                {
                    return 0;
                }

                try
                {
                    switch (choice)
                    {
                        case "1": await StartAsync(cancellationToken); break;
                        case "2": await IterateAsync(cancellationToken); break;
                        case "3": await StopAsync(cancellationToken); break;
                        case "4": await PauseAsync(cancellationToken); break;
                        case "5": await StatusAsync(cancellationToken); break;
                        case "6": await CalculateAsync(cancellationToken); break;
                        default: output.WriteLine($"'{choice}' is not on the menu: type a number from 0 to 6."); break;
                    }
                }
                catch (OptimizationClientException ex)
                {
                    output.WriteLine($"error: {ex.Message}");
                }
            }
        }
        catch (EndOfInputException)
        {
            return 0;
        }
    }

    private async Task StartAsync(CancellationToken cancellationToken)
    {
        OptimizationSessionDefinition definition = AskYesNo("Use the example (built-in model parabola4: x1..x4 in [-10, 10], maximize, 60 iterations)?", true)
            ? new OptimizationSessionDefinition([.. Enumerable.Range(1, 4).Select(i => new ManipulatedVariable($"x{i}", -10, 10))], [new ControlledVariable("y")], 60) { Maximize = true, ModelId = "parabola4" }
            : AskDefinition();
        string session = await client.StartAsync(definition, cancellationToken);
        _sessions[session] = definition;
        _current = session;
        output.WriteLine($"Started session {session}.");
    }

    private OptimizationSessionDefinition AskDefinition()
    {
        var mvs = new List<ManipulatedVariable>();
        int mvCount = AskInt("How many MVs?", null, n => n > 0);
        for (int i = 1; i <= mvCount; i++)
        {
            string id = Ask($"MV {i} id");
            OptimizationVariableType type = AskType($"{id} type (Numeric, Integer, Bool)");
            double lower = type == OptimizationVariableType.Bool ? 0 : AskNumber($"{id} lower bound", null);
            double upper = type == OptimizationVariableType.Bool ? 1 : AskNumber($"{id} upper bound", null);
            mvs.Add(new ManipulatedVariable(id, lower, upper, type));
        }

        var cvs = new List<ControlledVariable>();
        int cvCount = AskInt("How many CVs?", 0, n => n >= 0);
        for (int i = 1; i <= cvCount; i++)
        {
            string id = Ask($"CV {i} id");
            cvs.Add(new ControlledVariable(id, AskNumber($"{id} lower limit (empty: none)", double.MinValue), AskNumber($"{id} upper limit (empty: none)", double.MaxValue)));
        }

        bool maximize = AskYesNo("Maximize the objective?", false);
        string method = Ask("Method (empty: the default; GaussOpt, SimulatedAnnealingOpt, EvolutionaryOpt, TestStepOpt, Genetic_Algo, TrustRegion, NelderMead, PatternSearch, DifferentialEvolution, GeneticAlgorithm, SimulatedAnnealing)", "");
        int budget = AskInt("max_iterations (0: no limit, run until Stop)", 50, n => n >= 0);
        string model = Ask("model_id for CalculateCV (empty: none)", "");
        return new OptimizationSessionDefinition(mvs, cvs, budget) { Maximize = maximize, Method = method, ModelId = model.Length == 0 ? null : model };
    }

    private async Task IterateAsync(CancellationToken cancellationToken)
    {
        string session = AskSession();
        OptimizationEvaluation? evaluation = null;
        if (AskYesNo("Report the evaluation of the outstanding candidate? (no: get the first candidate, or the same one again)", true))
        {
            double objective = AskNumber("Objective value", null);
            bool succeeded = AskYesNo("Did the evaluation succeed (isGood)?", true);
            var cvs = new Dictionary<string, double>(StringComparer.Ordinal);
            foreach (string id in CvIds(session))
            {
                cvs[id] = AskNumber($"{id} value", null);
            }

            evaluation = new OptimizationEvaluation(objective, cvs, succeeded);
        }

        OptimizationIteration reply = await client.IterateAsync(session, evaluation, cancellationToken);
        output.WriteLine(reply.State switch
        {
            OptimizationIterationState.Completed => $"flag {IterationFlag.Completed}: completed, the best point found",
            OptimizationIterationState.Resumed => $"flag {IterationFlag.Resumed}: resumed after pause; evaluate this candidate",
            _ => $"flag {IterationFlag.Candidate}: evaluate this candidate",
        });
        if (reply.Message.Length != 0)
        {
            output.WriteLine($"message: {reply.Message}");
        }

        IReadOnlyList<string> ids = _sessions.TryGetValue(session, out OptimizationSessionDefinition? definition) ? [.. definition.Mvs.Select(mv => mv.Id)] : [];
        for (int i = 0; i < reply.Mvs.Count; i++)
        {
            output.WriteLine($"  {(i < ids.Count ? ids[i] : $"#{i + 1}")} = {reply.Mvs[i].ToString("R", CultureInfo.InvariantCulture)}");
        }
    }

    private async Task StopAsync(CancellationToken cancellationToken)
    {
        string session = AskSession();
        output.WriteLine(await client.StopAsync(session, cancellationToken));
        _sessions.Remove(session);
        if (_current == session)
        {
            _current = null;
        }
    }

    private async Task PauseAsync(CancellationToken cancellationToken) =>
        output.WriteLine(await client.PauseAsync(AskSession(), cancellationToken)
            ? "The session is paused; the next OptimizeIteration resumes it."
            : "Not paused: the server does not know this session.");

    private async Task StatusAsync(CancellationToken cancellationToken)
    {
        ServiceStatus status = await client.GetStatusAsync(cancellationToken);
        output.WriteLine($"status {status.Status}, service type {status.ServiceType}, id '{status.ServiceId}', user '{status.User}', message '{status.Message}'");
    }

    private async Task CalculateAsync(CancellationToken cancellationToken)
    {
        string session = AskSession();
        IEnumerable<string> ids = _sessions.TryGetValue(session, out OptimizationSessionDefinition? definition)
            ? definition.Mvs.Select(mv => mv.Id)
            : Ask("MV ids, comma-separated").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        var mvs = new Dictionary<string, double>(StringComparer.Ordinal);
        foreach (string id in ids)
        {
            mvs[id] = AskNumber($"{id} value", null);
        }

        string model = Ask("model_id (empty: the session's)", "");
        OptimizationModelResult result = await client.CalculateCvAsync(session, mvs, model.Length == 0 ? null : model, cancellationToken);
        if (!result.Succeeded)
        {
            output.WriteLine($"error: {result.Message}");
            return;
        }

        foreach ((string id, double value) in result.Cvs)
        {
            output.WriteLine($"  {id} = {value.ToString("R", CultureInfo.InvariantCulture)}");
        }

        output.WriteLine($"  objective = {result.Objective.ToString("R", CultureInfo.InvariantCulture)}");
    }

    private IEnumerable<string> CvIds(string session) =>
        _sessions.TryGetValue(session, out OptimizationSessionDefinition? definition)
            ? definition.Cvs.Select(cv => cv.Id)
            : Ask("CV ids of this session, comma-separated (empty: none)", "").Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);

    private string AskSession() => _current is null ? Ask("Session id") : Ask("Session id", _current);

    /// <summary>One answer line; empty takes <paramref name="defaultValue"/> when there is one, else asks again.</summary>
    private string Ask(string question, string? defaultValue = null)
    {
        while (true)
        {
            output.Write(defaultValue is { Length: > 0 } ? $"{question} [{defaultValue}]: " : $"{question}: ");
            string line = (input.ReadLine() ?? throw new EndOfInputException()).Trim();
            if (echo)
            {
                // Piped answers are not shown by a terminal: the transcript reads as a dialogue.
                output.WriteLine(line);
            }

            if (line.Length != 0)
            {
                return line;
            }

            if (defaultValue is not null)
            {
                return defaultValue;
            }
        }
    }

    private bool AskYesNo(string question, bool defaultValue)
    {
        while (true)
        {
            string answer = Ask($"{question} (y/n)", defaultValue ? "y" : "n").ToUpperInvariant();
            if (answer is "Y" or "YES" or "N" or "NO")
            {
                return answer[0] == 'Y';
            }

            output.WriteLine("Answer y or n.");
        }
    }

    private double AskNumber(string question, double? defaultValue)
    {
        while (true)
        {
            string answer = Ask(question, defaultValue is null ? null : "");
            if (answer.Length == 0 && defaultValue is { } none)
            {
                return none;
            }

            if (double.TryParse(answer, NumberStyles.Float, CultureInfo.InvariantCulture, out double value))
            {
                return value;
            }

            output.WriteLine($"'{answer}' is not a number.");
        }
    }

    private int AskInt(string question, int? defaultValue, Func<int, bool> valid)
    {
        while (true)
        {
            string answer = Ask(question, defaultValue?.ToString(CultureInfo.InvariantCulture));
            if (int.TryParse(answer, NumberStyles.Integer, CultureInfo.InvariantCulture, out int value) && valid(value))
            {
                return value;
            }

            output.WriteLine($"'{answer}' is not a valid count.");
        }
    }

    private OptimizationVariableType AskType(string question)
    {
        while (true)
        {
            string answer = Ask(question, "Numeric");
            if (Enum.TryParse(answer, ignoreCase: true, out OptimizationVariableType type) && Enum.IsDefined(type))
            {
                return type;
            }

            output.WriteLine($"'{answer}' is not Numeric, Integer or Bool.");
        }
    }

    private sealed class EndOfInputException : Exception;
}
