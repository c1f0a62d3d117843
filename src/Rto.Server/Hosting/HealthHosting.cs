using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rto.Server.Jobs;
using Rto.Server.Meters;
using Rto.Server.Messaging;
using Rto.Server.Metrics;
using Rto.Server.Optimization;

namespace Rto.Server.Hosting;

/// <summary>Settings of the HTTP health endpoint (section <c>Health</c>).</summary>
public sealed class HealthOptions
{
    public const string SectionName = "Health";

    /// <summary>False to serve no HTTP health endpoint.</summary>
    public bool Enabled { get; set; } = true;

    public string Address { get; set; } = "127.0.0.1";

    public int Port { get; set; } = 8091;

    /// <summary>Below this much free disk space under a data directory the server reports itself degraded.</summary>
    public long MinFreeDiskBytes { get; set; } = 1L << 30;
}

/// <summary>
/// The HTTP health endpoint orchestrators probe: <c>/health/live</c> answers 200 while the process
/// serves requests; <c>/health</c> (alias <c>/health/ready</c>) runs every check and answers 200 for
/// Healthy or Degraded and 503 for Unhealthy, with a JSON body naming each check. The gRPC
/// <c>grpc.health.v1</c> service reports the same checks.
/// </summary>
internal static class HealthHosting
{
    public const string EndpointName = "health";

    public static void AddHealth(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<HealthOptions>().BindConfiguration(HealthOptions.SectionName);
        builder.Services.AddHealthChecks()
            .AddCheck<StorageHealthCheck>("storage")
            .AddCheck<ProtocolsHealthCheck>("protocols");
    }

    public static void ListenHealth(this KestrelServerOptions kestrel, RtoEndpoints endpoints, Func<string, string, System.Net.IPAddress> parseAddress)
    {
        HealthOptions options = kestrel.ApplicationServices.GetRequiredService<IOptions<HealthOptions>>().Value;
        if (!options.Enabled)
        {
            return;
        }

        kestrel.Listen(parseAddress(options.Address, "Health:Address"), options.Port, listen =>
        {
            listen.Protocols = HttpProtocols.Http1;
            endpoints.Add(EndpointName, "HTTP health checks, GET /health and /health/live", listen);
        });
    }

    public static void MapHealth(this WebApplication app)
    {
        if (!app.Services.GetRequiredService<IOptions<HealthOptions>>().Value.Enabled)
        {
            return;
        }

        RtoEndpoints endpoints = app.Services.GetRequiredService<RtoEndpoints>();
        var report = new HealthCheckOptions { ResponseWriter = WriteReportAsync };
        var live = new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteReportAsync };

        // Only on the health endpoint's own port, which may have been chosen at bind time.
        app.UseWhen(
            context => context.Connection.LocalPort == endpoints.GetEndPoint(EndpointName).Port,
            branch => branch.UseHealthChecks("/health", report).UseHealthChecks("/health/ready", report).UseHealthChecks("/health/live", live));
    }

    private static Task WriteReportAsync(HttpContext context, HealthReport report)
    {
        context.Response.ContentType = "application/json; charset=utf-8";
        var body = new Dictionary<string, object?>
        {
            ["status"] = report.Status.ToString(),
            ["durationMs"] = Math.Round(report.TotalDuration.TotalMilliseconds, 3),
            ["checks"] = report.Entries.ToDictionary(
                e => e.Key,
                e => new Dictionary<string, object?>
                {
                    ["status"] = e.Value.Status.ToString(),
                    ["description"] = e.Value.Description,
                    ["data"] = e.Value.Data,
                }),
        };
        return context.Response.WriteAsync(JsonSerializer.Serialize(body));
    }
}

/// <summary>Free disk space under every data directory in use: degraded below the configured minimum, unhealthy below 64 MiB.</summary>
internal sealed class StorageHealthCheck(IOptions<HealthOptions> health, IOptions<MetricsOptions> metrics, IOptions<MetersOptions> meters, IOptions<RtoOptions> rto) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        HealthStatus status = HealthStatus.Healthy;
        string? problem = null;
        foreach ((string name, bool enabled, string directory) in new[]
        {
            ("metrics", metrics.Value.Enabled, metrics.Value.DataDirectory),
            ("meters", meters.Value.Enabled, meters.Value.DataDirectory),
            ("rto", rto.Value.Enabled, rto.Value.SessionsDirectory),
        })
        {
            if (!enabled)
            {
                continue;
            }

            long free = FreeBytes(Path.GetFullPath(directory));
            data[$"{name}FreeBytes"] = free;
            HealthStatus level = free < (64L << 20) ? HealthStatus.Unhealthy : free < health.Value.MinFreeDiskBytes ? HealthStatus.Degraded : HealthStatus.Healthy;
            if (level < status)
            {
                status = level;
                problem = $"{name} data directory {Path.GetFullPath(directory)} has {free >> 20} MiB free";
            }
        }

        return Task.FromResult(new HealthCheckResult(status, problem ?? "enough free disk space", data: data));
    }

    /// <summary>Free space of the file system holding <paramref name="path"/>, which need not exist yet (stores create their folders lazily).</summary>
    private static long FreeBytes(string path)
    {
        DirectoryInfo? existing = new(path);
        while (existing is { Exists: false })
        {
            existing = existing.Parent;
        }

        return new DriveInfo(existing?.FullName ?? Path.GetPathRoot(path)!).AvailableFreeSpace;
    }
}

/// <summary>What each enabled protocol is doing: connections, running jobs, registered meters, chat readers.</summary>
internal sealed class ProtocolsHealthCheck(IServiceProvider services) : IHealthCheck
{
    public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
    {
        var data = new Dictionary<string, object>();
        HealthStatus status = HealthStatus.Healthy;
        string description = "all enabled protocols are serving";
        if (services.GetRequiredService<IOptions<JobsOptions>>().Value.Enabled)
        {
            JobsActivity jobs = services.GetRequiredService<JobsActivity>();
            data["jobsRunning"] = jobs.RunningJobs;
            data["jobsConnections"] = jobs.Connections;
        }

        if (services.GetRequiredService<IOptions<MetersOptions>>().Value.Enabled)
        {
            int meters = services.GetRequiredService<MeterRegistry>().Meters.Count;
            data["metersRegistered"] = meters;
            if (meters == 0)
            {
                status = HealthStatus.Degraded;
                description = "the meter registry is empty: every reading is rejected";
            }
        }

        if (services.GetRequiredService<IOptions<MessengerOptions>>().Value.Enabled)
        {
            data["messengerReaders"] = services.GetRequiredService<ChatRoom>().SubscriptionCount;
        }

        return Task.FromResult(new HealthCheckResult(status, description, data: data));
    }
}
