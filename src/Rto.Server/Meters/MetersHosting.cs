using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;
using Rto.Server.Storage;

namespace Rto.Server.Meters;

/// <summary>The meters capability's front door: its options, stores, power calculator, health entry, endpoints and HTTP routes.</summary>
internal static partial class MetersHosting
{
    /// <summary>The registry file the original server read from its working directory.</summary>
    public const string OriginalRegistryFile = "ip_mapping.txt";

    public static void AddMeters(this WebApplicationBuilder builder)
    {
        RefuseConfigFlag(builder.Configuration);
        builder.AddCapability<MetersOptions>(MetersOptions.SectionName, ListenMeters, MapMeters)
            .ReportsHealth<MetersHealthCheck>(EndpointNames.Meters);
        builder.Services.AddSingleton<MeterCounters>();
        builder.Services.AddSingleton(sp =>
        {
            MetersOptions options = sp.GetRequiredService<IOptions<MetersOptions>>().Value;
            ILogger<MeterRegistry> logger = sp.GetRequiredService<ILogger<MeterRegistry>>();
            return new MeterRegistry(ResolveRegistryPath(options, logger), logger, options.RegistryReloadDelay);
        });
        if (builder.IsClustered() && (builder.Configuration.GetValue<bool?>($"{MetersOptions.SectionName}:Enabled") ?? true))
        {
            // The registry in a bucket and the readings in a stream shared by every node (docs/cluster.md).
            builder.Services.AddSingleton(sp => MeterStore.CreateReplica(sp.GetRequiredService<IOptions<MetersOptions>>().Value, sp.GetRequiredService<ILogger<MeterStore>>()));
            builder.AddClusterMember<MetersReplication>();
        }
        else
        {
            builder.Services.AddSingleton(sp => new MeterStore(sp.GetRequiredService<IOptions<MetersOptions>>().Value, sp.GetRequiredService<ILogger<MeterStore>>()));
        }

        builder.Services.AddSingleton(sp => new MeterCharts(sp.GetRequiredService<IOptions<MetersOptions>>().Value));

        builder.Services.AddSingleton<PowerCalculator>();
        if (builder.Configuration.GetValue<bool?>($"{MetersOptions.SectionName}:Enabled") ?? true)
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PowerCalculator>());
        }
    }

    /// <summary>
    /// <see cref="MetersOptions.RegistryPath"/>; when it is not set, <c>ip_mapping.txt</c> in the
    /// working directory (where the original server read it) if it is there, else the shipped sample.
    /// </summary>
    internal static string ResolveRegistryPath(MetersOptions options, ILogger logger)
    {
        if (!string.IsNullOrWhiteSpace(options.RegistryPath))
        {
            return options.RegistryPath;
        }

        string original = Path.GetFullPath(OriginalRegistryFile);
        if (File.Exists(original))
        {
            LogOriginalRegistry(logger, original);
            return original;
        }

        return Path.Combine(AppContext.BaseDirectory, "meters.tsv");
    }

    /// <summary>
    /// <c>--config config.yaml</c> would otherwise land in configuration as the unused key
    /// <c>config</c>, and the server would start without a word on default settings.
    /// </summary>
    private static void RefuseConfigFlag(IConfiguration configuration)
    {
        if (configuration is not IConfigurationRoot root)
        {
            return;
        }

        foreach (IConfigurationProvider provider in root.Providers.OfType<Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationProvider>())
        {
            if (provider.TryGet("config", out string? file))
            {
                throw new InvalidOperationException(
                    $"--config {file}: Rto reads no configuration file named on the command line, and the original meter server had none either "
                    + $"(its address 127.0.0.1, port 44444 and ./logs folder were constants in helpers/variables.py; its meters came from {OriginalRegistryFile} in its working directory, which Rto reads too). "
                    + "Give settings as --Meters:Port=44444 --Meters:PowerLogLayout=PerRun …, as Meters__Port=… environment variables, or in appsettings.json; "
                    + "docs/migrating.md has the command that runs Rto in the meter server's place.");
            }
        }
    }

    private static void ListenMeters(EndpointListener listener, MetersOptions options)
    {
        listener.ListenTcp<MetersConnectionHandler>(EndpointNames.Meters, "meter readings, TSV lines");
        if (options.HttpPort >= 0)
        {
            listener.ListenHttp(EndpointNames.MetersHttp, "meters JSON queries, HTTP/1.1 /meters/...", HttpProtocols.Http1, options.HttpPort);
        }
    }

    private static void MapMeters(WebApplication app, MetersOptions options)
    {
        // Open the registry and the logs before any endpoint accepts a connection.
        app.Services.GetRequiredService<MeterRegistry>();
        app.Services.GetRequiredService<MeterStore>();
        app.Services.GetRequiredService<PowerCalculator>();
        if (options.HttpPort >= 0)
        {
            MetersHttpApi.Map(app, options);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Meters:RegistryPath is not set: the meter registry is ip_mapping.txt from the working directory ({Path}), as the original meter server read it")]
    private static partial void LogOriginalRegistry(ILogger logger, string path);

    /// <summary>Free disk space under the readings logs, and whether any meter is registered.</summary>
    private sealed class MetersHealthCheck(DiskSpace disk, MeterRegistry registry, IOptions<MetersOptions> options) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default)
        {
            int meters = registry.Meters.Count;
            HealthCheckResult space = disk.Check(options.Value.DataDirectory, $"{meters} meters registered");
            var data = new Dictionary<string, object>(space.Data) { ["registered"] = meters };
            return Task.FromResult(space.Status == HealthStatus.Healthy && meters == 0
                ? HealthCheckResult.Degraded("the meter registry is empty: every reading is rejected", data: data)
                : new HealthCheckResult(space.Status, space.Description, data: data));
        }
    }
}
