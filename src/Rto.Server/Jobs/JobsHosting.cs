using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;

namespace Rto.Server.Jobs;

/// <summary>The jobs capability's front door: its options, runner, health entry and endpoint.</summary>
internal static class JobsHosting
{
    public static void AddJobs(this WebApplicationBuilder builder)
    {
        builder.AddCapability<JobsOptions>(JobsOptions.SectionName, ListenJobs, MapJobs)
            .ReportsHealth<JobsHealthCheck>(EndpointNames.Jobs);
        builder.Services.AddSingleton<JobsActivity>();
        builder.Services.AddSingleton(sp => new JobBoard(TimeProvider.System));
        builder.Services.AddSingleton<JobRunObserver>();
        builder.Services.AddSingleton(sp =>
        {
            JobsOptions jobs = sp.GetRequiredService<IOptions<JobsOptions>>().Value;
            return new DataRoots(jobs.DataRoots.Count > 0 ? jobs.DataRoots : [jobs.SampleDirectory]);
        });
        builder.Services.AddSingleton<Python.PythonTaskRunner>();
        builder.Services.AddSingleton<JobExecutor>();
        builder.Services.AddSingleton<JobRunner>();
        if (builder.IsClustered() && (builder.Configuration.GetValue<bool?>($"{JobsOptions.SectionName}:Enabled") ?? true))
        {
            // One queue for the cluster (docs/cluster.md): jobs run on the first node with a free slot.
            builder.AddClusterMember<ClusterJobQueue>();
            builder.Services.AddSingleton<IJobDispatcher>(sp => sp.GetRequiredService<ClusterJobQueue>());
        }
        else
        {
            builder.Services.AddSingleton<IJobDispatcher, LocalJobDispatcher>();
        }
    }

    private static void ListenJobs(EndpointListener listener, JobsOptions options) =>
        listener.ListenTcp<JobsConnectionHandler>(EndpointNames.Jobs, "JSON jobs over Parquet");

    private static void MapJobs(WebApplication app, JobsOptions options)
    {
        // Said once at start: without FFTW an FFT job runs many times slower and may take six times the memory.
        ILogger logger = app.Services.GetRequiredService<ILoggerFactory>().CreateLogger("Rto.Server");
        if (FftwPlans.IsAvailable)
        {
            logger.LogInformation("FFT jobs use FFTW (libfftw3.so.3)");
        }
        else
        {
            logger.LogWarning("libfftw3.so.3 not found: FFT jobs use the managed MathNet.Numerics FFT (slower, {BytesPerSample} bytes per sample against Jobs:MaxJobMemory); install libfftw3-double3", SpectrumTransform.ManagedBytesPerSample);
        }

        // A first start lays out the sample a new user can run a job on straight away.
        if (!string.IsNullOrWhiteSpace(options.SampleDirectory))
        {
            JobSamples.EnsureCreated(options.SampleDirectory);
            logger.LogInformation("Jobs sample (time_series.parquet, fft.task, stats.task, work.sql) in {SampleDirectory}", Path.GetFullPath(options.SampleDirectory));
        }
    }

    /// <summary>Running jobs and open connections.</summary>
    private sealed class JobsHealthCheck(JobsActivity activity) : IHealthCheck
    {
        public Task<HealthCheckResult> CheckHealthAsync(HealthCheckContext context, CancellationToken cancellationToken = default) =>
            Task.FromResult(HealthCheckResult.Healthy(
                $"{activity.RunningJobs} jobs running",
                new Dictionary<string, object> { ["running"] = activity.RunningJobs, ["connections"] = activity.Connections }));
    }
}
