using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Text.Json;

namespace Rto.Server.Tests.Cluster;

/// <summary>
/// Real <c>nats-server</c> processes with JetStream on loopback, each with its own store: one
/// alone, or a cluster joined by routes. <c>.ci/run</c> installs the Debian package. The
/// benchmarks' <c>load cluster</c> compiles this file too.
/// </summary>
internal sealed class NatsTestCluster : IAsyncDisposable
{
    private readonly NatsServer[] _servers;
    private readonly string _directory;

    private NatsTestCluster(NatsServer[] servers, string directory)
    {
        _servers = servers;
        _directory = directory;
    }

    /// <summary>Every server's client URL, comma-separated, as <c>Cluster:Nats</c> takes them.</summary>
    public string Urls => string.Join(',', _servers.Select(s => $"nats://127.0.0.1:{s.ClientPort}"));

    public int Count => _servers.Length;

    /// <summary>Starts <paramref name="count"/> servers (clustered when more than one) and waits until JetStream has a meta leader.</summary>
    public static async Task<NatsTestCluster> StartAsync(int count = 3)
    {
        string directory = Path.Combine(Path.GetTempPath(), "rto-nats", Guid.NewGuid().ToString("N")[..12]);
        List<int> ports = FreePorts(count * 3);
        var servers = new NatsServer[count];
        for (int i = 0; i < count; i++)
        {
            servers[i] = new NatsServer($"n{i}", Path.Combine(directory, $"n{i}"), ports[i * 3], ports[(i * 3) + 1], ports[(i * 3) + 2]);
        }

        string routes = string.Join(',', servers.Select(s => $"nats://127.0.0.1:{s.RoutePort}"));
        var cluster = new NatsTestCluster(servers, directory);
        try
        {
            foreach (NatsServer server in servers)
            {
                server.Start(count > 1 ? routes : null);
            }

            await cluster.WaitForJetStreamAsync();
            return cluster;
        }
        catch
        {
            await cluster.DisposeAsync();
            throw;
        }
    }

    /// <summary>SIGKILL to server <paramref name="index"/>: no goodbye to its peers or clients.</summary>
    public Task KillAsync(int index) => _servers[index].KillAsync();

    /// <summary>Starts server <paramref name="index"/> again with its ports and store.</summary>
    public void Restart(int index) => _servers[index].Start(Count > 1 ? string.Join(',', _servers.Select(s => $"nats://127.0.0.1:{s.RoutePort}")) : null);

    /// <summary>Waits (polling each running server's monitoring endpoint) until JetStream has a meta leader.</summary>
    public async Task WaitForJetStreamAsync()
    {
        using var http = new HttpClient { Timeout = TimeSpan.FromSeconds(2) };
        var clock = Stopwatch.StartNew();
        string last = "";
        while (clock.Elapsed < TimeSpan.FromSeconds(30))
        {
            bool ready = true;
            foreach (NatsServer server in _servers.Where(s => s.IsRunning))
            {
                try
                {
                    using JsonDocument jsz = JsonDocument.Parse(await http.GetStringAsync($"http://127.0.0.1:{server.MonitorPort}/jsz"));
                    bool hasLeader = Count == 1
                        ? jsz.RootElement.TryGetProperty("config", out _)
                        : jsz.RootElement.TryGetProperty("meta_cluster", out JsonElement meta) && meta.TryGetProperty("leader", out JsonElement leader) && leader.GetString() is { Length: > 0 };
                    ready &= hasLeader;
                    last = jsz.RootElement.ToString();
                }
                catch (Exception ex) when (ex is HttpRequestException or TaskCanceledException)
                {
                    ready = false;
                    last = ex.Message;
                }
            }

            if (ready)
            {
                return;
            }

            // Nothing to await: the monitoring endpoint is the only way to see the election end.
            await Task.Delay(100);
        }

        throw new TimeoutException($"JetStream did not elect a meta leader within 30 s; last /jsz: {last}\n{string.Join("\n", _servers.Select(s => s.Output))}");
    }

    public async ValueTask DisposeAsync()
    {
        foreach (NatsServer server in _servers)
        {
            await server.KillAsync();
        }

        try
        {
            Directory.Delete(_directory, recursive: true);
        }
        catch (IOException)
        {
            // A store file still being closed by a dying server; the temp folder keeps it.
        }
    }

    /// <summary>Free loopback ports, held together while they are chosen so that none repeats.</summary>
    private static List<int> FreePorts(int count)
    {
        var listeners = new List<TcpListener>();
        try
        {
            for (int i = 0; i < count; i++)
            {
                var listener = new TcpListener(IPAddress.Loopback, 0);
                listener.Start();
                listeners.Add(listener);
            }

            return [.. listeners.Select(l => ((IPEndPoint)l.LocalEndpoint).Port)];
        }
        finally
        {
            listeners.ForEach(l => l.Stop());
        }
    }

    private static string Executable()
    {
        string[] folders = [.. (Environment.GetEnvironmentVariable("PATH") ?? "").Split(':'), "/usr/sbin", "/usr/bin", "/usr/local/bin"];
        return folders.Select(folder => Path.Combine(folder, "nats-server")).FirstOrDefault(File.Exists)
            ?? throw new InvalidOperationException("nats-server is not installed: the cluster tests need it (apt-get install nats-server; .ci/run installs it).");
    }

    private sealed class NatsServer(string name, string storeDirectory, int clientPort, int routePort, int monitorPort)
    {
        private readonly List<string> _output = [];
        private Process? _process;

        public int ClientPort => clientPort;

        public int RoutePort => routePort;

        public int MonitorPort => monitorPort;

        public bool IsRunning => _process is { HasExited: false };

        public string Output
        {
            get
            {
                lock (_output)
                {
                    return $"--- {name}\n" + string.Join('\n', _output.TakeLast(30));
                }
            }
        }

        public void Start(string? routes)
        {
            var info = new ProcessStartInfo(Executable())
            {
                RedirectStandardOutput = true,
                RedirectStandardError = true,
                UseShellExecute = false,
            };
            foreach (string arg in (string[])["-a", "127.0.0.1", "-p", $"{clientPort}", "-m", $"{monitorPort}", "-n", name, "-js", "-sd", storeDirectory])
            {
                info.ArgumentList.Add(arg);
            }

            if (routes is not null)
            {
                foreach (string arg in (string[])["--cluster_name", "rto-test", "--cluster", $"nats://127.0.0.1:{routePort}", "--routes", routes])
                {
                    info.ArgumentList.Add(arg);
                }
            }

            _process = Process.Start(info)!;
            _process.OutputDataReceived += (_, e) => Record(e.Data);
            _process.ErrorDataReceived += (_, e) => Record(e.Data);
            _process.BeginOutputReadLine();
            _process.BeginErrorReadLine();
        }

        public async Task KillAsync()
        {
            if (_process is { HasExited: false } process)
            {
                process.Kill();
                await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(30));
            }

            _process?.Dispose();
            _process = null;
        }

        private void Record(string? line)
        {
            if (line is not null)
            {
                lock (_output)
                {
                    _output.Add(line);
                }
            }
        }
    }
}
