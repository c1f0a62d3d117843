using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Options;
using Rto.Server.Jobs;
using Rto.Server.Meters;
using Rto.Server.Messaging;
using Rto.Server.Metrics;
using Rto.Server.Optimization;

namespace Rto.Server.Hosting;

/// <summary>
/// Builds the Rto server: one Kestrel host serving every protocol endpoint, configured from
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
        builder.Services.AddSingleton<ServerInstruments>();
        builder.Services.AddSingleton<RtoEndpoints>();
        builder.Services.AddGrpc(grpc => grpc.Interceptors.Add<GrpcCallInstruments>());

        // Under systemd: notify readiness, log to the journal, stop cleanly on SIGTERM. A no-op elsewhere.
        builder.Host.UseSystemd();

        builder.Services.AddOptions<MetricsOptions>().BindConfiguration(MetricsOptions.SectionName);
        builder.Services.AddSingleton(sp => new MetricStore(sp.GetRequiredService<IOptions<MetricsOptions>>().Value, sp.GetRequiredService<ILogger<MetricStore>>()));
        builder.Services.AddHealthChecks().AddCheck<MetricsHealthCheck>("metrics");
        builder.AddMessenger();
        builder.AddMeters();
        builder.AddHealth();
        builder.AddRto();

        // One reflection service lists every gRPC service (messenger, RTO, health).
        builder.Services.AddGrpcReflection();

        builder.Services.AddOptions<JobsOptions>().BindConfiguration(JobsOptions.SectionName);
        builder.Services.AddSingleton<JobsActivity>();
        builder.Services.AddSingleton<JobRunObserver>();
        builder.Services.AddSingleton(sp =>
        {
            JobsOptions jobs = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
            return new DataRoots(jobs.DataRoots.Count > 0 ? jobs.DataRoots : [jobs.SampleDirectory]);
        });
        builder.Services.AddSingleton<JobExecutor>();
        builder.Services.AddSingleton<JobRunner>();

        builder.WebHost.ConfigureKestrel((context, kestrel) =>
        {
            RtoEndpoints endpoints = kestrel.ApplicationServices.GetRequiredService<RtoEndpoints>();
            MetricsOptions metrics = kestrel.ApplicationServices.GetRequiredService<IOptions<MetricsOptions>>().Value;
            if (metrics.Enabled)
            {
                metrics.Validate();
                ListenTcp<MetricsConnectionHandler>(kestrel, endpoints, "metrics", "put/get text protocol", metrics.Address, "Metrics:Address", metrics.Port);
            }

            JobsOptions jobs = kestrel.ApplicationServices.GetRequiredService<IOptions<JobsOptions>>().Value;
            if (jobs.Enabled)
            {
                jobs.Validate();
                ListenTcp<JobsConnectionHandler>(kestrel, endpoints, "jobs", "JSON jobs over Parquet", jobs.Address, "Jobs:Address", jobs.Port);
            }

            kestrel.ListenMessenger(endpoints, ParseAddress);
            kestrel.ListenMeters(endpoints, ParseAddress);
            kestrel.ListenHealth(endpoints, ParseAddress);
            kestrel.ListenRto(endpoints, ParseAddress);
        });

        configure?.Invoke(builder);
        WebApplication app = builder.Build();

        // Open the stores (replaying their logs) before any endpoint accepts a connection.
        if (app.Services.GetRequiredService<IOptions<MetricsOptions>>().Value.Enabled)
        {
            app.Services.GetRequiredService<MetricStore>();
        }

        // A first start lays out the sample a new user can run a job on straight away.
        JobsOptions jobsOptions = app.Services.GetRequiredService<IOptions<JobsOptions>>().Value;
        if (jobsOptions.Enabled && !string.IsNullOrWhiteSpace(jobsOptions.SampleDirectory))
        {
            JobSamples.EnsureCreated(jobsOptions.SampleDirectory);
            app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rto.Server")
                .LogInformation("Jobs sample (time_series.parquet, fft.task, stats.task, work.sql) in {SampleDirectory}", Path.GetFullPath(jobsOptions.SampleDirectory));
        }
        app.MapMessenger();
        app.MapMeters();
        app.MapHealth();
        app.MapRto();
        app.MapGrpcReflectionService();

        app.Lifetime.ApplicationStarted.Register(() =>
            app.Services.GetRequiredService<RtoEndpoints>().LogBanner(app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rto.Server")));
        return app;
    }

    /// <summary>A raw TCP endpoint served by a connection handler, recorded for the banner and tests.</summary>
    private static void ListenTcp<THandler>(KestrelServerOptions kestrel, RtoEndpoints endpoints, string name, string description, string address, string setting, int port)
        where THandler : ConnectionHandler =>
        kestrel.Listen(ParseAddress(address, setting), port, listen =>
        {
            endpoints.Add(name, description, listen);
            listen.UseConnectionHandler<THandler>();
        });

    private static IPAddress ParseAddress(string address, string setting) =>
        address switch
        {
            "*" or "0.0.0.0" => IPAddress.Any,
            "::" => IPAddress.IPv6Any,
            "localhost" => IPAddress.Loopback,
            _ when IPAddress.TryParse(address, out IPAddress? parsed) => parsed,
            _ => throw new InvalidOperationException($"{setting} '{address}' is not an IP address."),
        };
}
