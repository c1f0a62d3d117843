using Rto.Server.Cluster;
using Rto.Server.Console;
using Rto.Server.Endpoints;
using Rto.Server.Health;
using Rto.Server.Jobs;
using Rto.Server.Messenger;
using Rto.Server.Meters;
using Rto.Server.Metrics;
using Rto.Server.Optimization;

namespace Rto.Server.Hosting;

/// <summary>
/// The composition root: one Kestrel host serving every capability, configured from
/// <c>appsettings.json</c>, environment variables (<c>Metrics__Port=9000</c>) and the command
/// line (<c>--Metrics:Port=9000</c>), in increasing order of precedence.
/// </summary>
public static class RtoServer
{
    /// <summary>Creates the server application; <paramref name="configure"/> can adjust the builder (tests use it).</summary>
    public static WebApplication Build(string[] args, Action<WebApplicationBuilder>? configure = null)
    {
        // appsettings.json is read from beside the program, however it was started (dotnet run,
        // the .NET tool, a service); relative data directories still follow the working directory.
        WebApplicationBuilder builder = WebApplication.CreateBuilder(new WebApplicationOptions { Args = args, ContentRootPath = AppContext.BaseDirectory });

        // Under systemd: notify readiness, log to the journal, stop cleanly on SIGTERM. A no-op elsewhere.
        builder.Host.UseSystemd();
        builder.AddServerEndpoints();
        builder.AddCluster();           // NATS JetStream, only with Cluster:Nats (docs/cluster.md)

        // One line per capability; each listens, maps and reports health only while enabled, in this order.
        builder.AddMetrics();
        builder.AddJobs();
        builder.AddMessenger();
        builder.AddMeters();
        builder.AddHealth();
        builder.AddOptimization();
        builder.AddConsole();

        configure?.Invoke(builder);
        WebApplication app = builder.Build();
        app.MapServerEndpoints();
        return app;
    }
}
