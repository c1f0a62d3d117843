using System.Diagnostics;
using System.Net;
using System.Text.RegularExpressions;

namespace Rto.Server.Tests;

/// <summary>The server as a separate process, for crash (kill -9) and signal tests.</summary>
internal sealed partial class ServerProcess : IAsyncDisposable
{
    private readonly Process _process;
    private readonly TaskCompletionSource _started = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Dictionary<string, IPEndPoint> _endPoints = [];
    private readonly List<string> _output = [];

    private ServerProcess(Process process) => _process = process;

    public IPEndPoint MetricsEndPoint => EndPoint("metrics");

    public IPEndPoint MetersEndPoint => EndPoint("meters");

    public IPEndPoint JobsEndPoint => EndPoint("jobs");

    /// <summary>The server's process id (for reading its memory from /proc).</summary>
    public int Id => _process.Id;

    public IPEndPoint MetersHttpEndPoint => EndPoint("meters-http");

    /// <summary>The messenger endpoint as a client address, <c>127.0.0.1:port</c>.</summary>
    public string MessengerAddress => $"127.0.0.1:{EndPoint("messenger").Port}";

    public IPEndPoint HealthEndPoint => EndPoint("health");

    /// <summary>Whether the process is still running.</summary>
    public bool IsRunning => !_process.HasExited;

    /// <summary>The optimization gRPC endpoint (known once <see cref="StartAsync"/> returns).</summary>
    public Task<IPEndPoint> OptimizationEndPointAsync => Task.FromResult(EndPoint("optimization"));

    public string Output
    {
        get
        {
            lock (_output)
            {
                return string.Join('\n', _output);
            }
        }
    }

    public static async Task<ServerProcess> StartAsync(string dataDirectory, params string[] settings)
    {
        string serverDll = Path.Combine(AppContext.BaseDirectory, "Rto.Server.dll");
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
            WorkingDirectory = AppContext.BaseDirectory,
        };
        info.ArgumentList.Add(serverDll);
        foreach (string arg in (string[])["--Metrics:Port=0", $"--Metrics:DataDirectory={dataDirectory}", "--Jobs:Port=0", $"--Jobs:SampleDirectory={Path.Combine(dataDirectory, "jobs-sample")}", "--Messenger:Address=127.0.0.1", "--Messenger:Port=0", "--Meters:Port=0", "--Meters:HttpPort=0", $"--Meters:DataDirectory={Path.Combine(dataDirectory, "meters")}", $"--Meters:PlotDirectory={Path.Combine(dataDirectory, "plots")}", "--Health:Port=0", "--Console:Port=0", "--Optimization:Port=0", $"--Optimization:SessionsDirectory={Path.Combine(dataDirectory, "rto", "sessions")}", .. settings])
        {
            info.ArgumentList.Add(arg);
        }

        var server = new ServerProcess(Process.Start(info)!);
        server._process.OutputDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.ErrorDataReceived += (_, e) => server.OnLine(e.Data);
        server._process.EnableRaisingEvents = true;
        server._process.Exited += (_, _) => server._started.TrySetException(new InvalidOperationException("The server exited before listening:\n" + server.Output));
        server._process.BeginOutputReadLine();
        server._process.BeginErrorReadLine();
        await server._started.Task.WaitAsync(TimeSpan.FromSeconds(60));
        return server;
    }

    /// <summary>Where the endpoint named <paramref name="name"/> listens, as the server's start-up banner said.</summary>
    public IPEndPoint EndPoint(string name)
    {
        lock (_output)
        {
            return _endPoints.TryGetValue(name, out IPEndPoint? endPoint) ? endPoint : throw new InvalidOperationException($"The server did not report a '{name}' endpoint:\n{string.Join('\n', _output)}");
        }
    }

    /// <summary>SIGKILL: no shutdown code runs.</summary>
    public async Task KillAsync()
    {
        _process.Kill();
        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
    }

    /// <summary>SIGTERM, as systemd or Ctrl-C would stop it; returns the exit code.</summary>
    public async Task<int> TerminateAsync()
    {
        using (Process kill = Process.Start("kill", ["-TERM", _process.Id.ToString(System.Globalization.CultureInfo.InvariantCulture)]))
        {
            await kill.WaitForExitAsync();
        }

        await _process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
        return _process.ExitCode;
    }

    public async ValueTask DisposeAsync()
    {
        if (!_process.HasExited)
        {
            await KillAsync();
        }

        _process.Dispose();
    }

    private void OnLine(string? line)
    {
        if (line is null)
        {
            return;
        }

        Match match = ListeningLine().Match(line);
        lock (_output)
        {
            _output.Add(line);
            if (match.Success)
            {
                _endPoints[match.Groups[1].Value] = IPEndPoint.Parse(match.Groups[2].Value);
            }
        }

        // The banner lists every endpoint before this line.
        if (line.Contains("Rto server started", StringComparison.Ordinal))
        {
            _started.TrySetResult();
        }
    }

    [GeneratedRegex(@"(\S+) endpoint \(.*\) listening on tcp://(\S+)")]
    private static partial Regex ListeningLine();
}
