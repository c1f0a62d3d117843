using Microsoft.AspNetCore.Builder;
using Microsoft.Extensions.DependencyInjection;
using System.Net;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;

namespace Rto.Server.Tests;

/// <summary>The real server, in process, on an ephemeral loopback port with its own data directory.</summary>
internal sealed class TestServer : IAsyncDisposable
{
    private readonly WebApplication _app;

    private TestServer(WebApplication app, string dataDirectory)
    {
        _app = app;
        DataDirectory = dataDirectory;
    }

    public string DataDirectory { get; }

    /// <summary>The one data root of the jobs endpoint: <c>DataDirectory/jobs</c>.</summary>
    public string JobsRoot => Path.Combine(DataDirectory, "jobs");

    public IPEndPoint JobsEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Jobs);

    public IPEndPoint MetricsEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Metrics);

    public IPEndPoint MetersEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Meters);

    public IPEndPoint MetersHttpEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.MetersHttp);

    public IPEndPoint HealthEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Health);

    public IPEndPoint MessengerEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Messenger);

    /// <summary>The messenger endpoint as a client address, <c>127.0.0.1:port</c>.</summary>
    public string MessengerAddress => $"127.0.0.1:{MessengerEndPoint.Port}";

    public IPEndPoint OptimizationEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Optimization);

    /// <summary>The optimization endpoint as a client address, <c>127.0.0.1:port</c>.</summary>
    public string OptimizationAddress => $"127.0.0.1:{OptimizationEndPoint.Port}";

    /// <summary>Where the optimization sessions' files are: <c>DataDirectory/rto/sessions</c> (as the default <c>data/rto/sessions</c>).</summary>
    public string OptimizationSessionsDirectory => Path.Combine(DataDirectory, "rto", "sessions");

    public IPEndPoint ConsoleEndPoint => _app.Services.GetRequiredService<ServerEndpoints>().GetEndPoint(EndpointNames.Console);

    /// <summary>The console's base address, <c>http://127.0.0.1:port</c>.</summary>
    public Uri ConsoleAddress => new($"http://127.0.0.1:{ConsoleEndPoint.Port}");

    public IServiceProvider Services => _app.Services;

    /// <summary>Everything this test run writes lives under one folder, removed when the run ends.</summary>
    public static string RunDirectory { get; } = Path.Combine(Path.GetTempPath(), "rto-tests", $"run-{Environment.ProcessId}-{Guid.NewGuid():N}");

    public static string NewDataDirectory() => Path.Combine(RunDirectory, Guid.NewGuid().ToString("N"));

    public static Task<TestServer> StartAsync(string? dataDirectory = null, params string[] settings) => StartAsync(dataDirectory, configure: null, settings);

    /// <summary>Starts the server; <paramref name="configure"/> can replace services (e.g. a job observer).</summary>
    public static async Task<TestServer> StartAsync(string? dataDirectory, Action<WebApplicationBuilder>? configure, params string[] settings)
    {
        dataDirectory ??= NewDataDirectory();
        string[] args =
        [
            $"--Metrics:Port=0", $"--Metrics:DataDirectory={dataDirectory}", "--Metrics:Fsync=Never", "--Logging:LogLevel:Default=Warning",
            "--Jobs:Port=0", $"--Jobs:DataRoots:0={Path.Combine(dataDirectory, "jobs")}", $"--Jobs:SampleDirectory={Path.Combine(dataDirectory, "jobs", "sample")}",
            "--Messenger:Address=127.0.0.1", "--Messenger:Port=0",
            "--Meters:Port=0", "--Meters:HttpPort=0", $"--Meters:DataDirectory={Path.Combine(dataDirectory, "meters")}", $"--Meters:PlotDirectory={Path.Combine(dataDirectory, "plots")}",
            "--Health:Port=0", "--Console:Port=0",
            "--Optimization:Address=127.0.0.1", "--Optimization:Port=0", $"--Optimization:SessionsDirectory={Path.Combine(dataDirectory, "rto", "sessions")}", $"--Optimization:ModelsDirectory={Path.Combine(dataDirectory, "rto", "models")}",
            .. settings,
        ];
        WebApplication app = RtoServer.Build(args, configure);
        await app.StartAsync();
        return new TestServer(app, dataDirectory);
    }

    /// <summary>Stops the server (as Ctrl-C would) without disposing it.</summary>
    public Task StopAsync() => _app.StopAsync();

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }
}
