using System.Diagnostics;
using Microsoft.Extensions.Diagnostics.Metrics;
using OpenTelemetry;
using OpenTelemetry.Exporter;
using OpenTelemetry.Metrics;
using OpenTelemetry.Resources;
using OpenTelemetry.Trace;

namespace Rto.Server.Endpoints;

/// <summary>
/// The server's OpenTelemetry wiring, done once for every capability: which meters the exporters
/// see, the server's <see cref="ActivitySource"/>, and the OTLP export of <see cref="TelemetryOptions"/>.
/// Exporters are added by whoever serves them (OTLP here, the Prometheus scrape by the console), so
/// with neither the instruments cost what they cost without OpenTelemetry.
/// </summary>
internal static class ServerTelemetry
{
    /// <summary>The source of the server's own spans (jobs); gRPC calls come from ASP.NET Core's source.</summary>
    public const string ActivitySourceName = "Rto.Server";

    /// <summary>ASP.NET Core's activity source: one span per HTTP request, so per gRPC call.</summary>
    private const string AspNetCoreActivitySourceName = "Microsoft.AspNetCore";

    /// <summary>The meters exported: the server's own, and Kestrel's and ASP.NET Core's connection and request meters.</summary>
    private static readonly string[] LocalMeters = [ServerInstruments.MeterName, "Microsoft.AspNetCore.Server.Kestrel", "Microsoft.AspNetCore.Hosting"];

    /// <summary>Spans of the server's own work, e.g. one per job.</summary>
    public static readonly ActivitySource Activities = new(ActivitySourceName);

    /// <summary>Enables the server's meters for OpenTelemetry and, when <c>Telemetry:OtlpEndpoint</c> is set, the OTLP export of metrics and traces.</summary>
    public static void AddServerTelemetry(this WebApplicationBuilder builder)
    {
        builder.Services.AddOptions<TelemetryOptions>().BindConfiguration(TelemetryOptions.SectionName);

        // Only this host's meters (MeterScope.Local): tests run several servers in one process, and
        // each must export its own counts. Rules without an OpenTelemetry listener cost nothing.
        foreach (string meter in LocalMeters)
        {
            builder.Metrics.EnableMetrics(meter, instrumentName: null, listenerName: null, scopes: MeterScope.Local);
        }

        TelemetryOptions options = builder.Configuration.GetSection(TelemetryOptions.SectionName).Get<TelemetryOptions>() ?? new TelemetryOptions();
        if (options.Validate() is not { } endpoint)
        {
            return;
        }

        int interval = (int)options.ExportInterval.TotalMilliseconds;
        builder.AddServerOpenTelemetry(options.ServiceName)
            .WithMetrics(metrics => metrics.AddOtlpExporter((exporter, reader) =>
            {
                Configure(exporter, options.OtlpProtocol, endpoint, "v1/metrics");
                reader.PeriodicExportingMetricReaderOptions.ExportIntervalMilliseconds = interval;
            }))
            .WithTracing(tracing => tracing
                .AddSource(ActivitySourceName, AspNetCoreActivitySourceName)
                .AddOtlpExporter(exporter =>
                {
                    Configure(exporter, options.OtlpProtocol, endpoint, "v1/traces");
                    exporter.BatchExportProcessorOptions.ScheduledDelayMilliseconds = interval;
                }));
    }

    /// <summary>The one OpenTelemetry registration of the host, with the service's resource; safe to call more than once.</summary>
    public static OpenTelemetryBuilder AddServerOpenTelemetry(this WebApplicationBuilder builder, string? serviceName = null)
    {
        serviceName ??= builder.Configuration.GetValue<string>($"{TelemetryOptions.SectionName}:{nameof(TelemetryOptions.ServiceName)}") ?? new TelemetryOptions().ServiceName;
        return builder.Services.AddOpenTelemetry().ConfigureResource(resource => resource.AddService(serviceName));
    }

    private static void Configure(OtlpExporterOptions exporter, OtlpExportProtocol protocol, Uri endpoint, string signalPath)
    {
        exporter.Protocol = protocol;

        // Over HTTP each signal has its own path; the gRPC exporter takes the collector's address as is.
        exporter.Endpoint = protocol == OtlpExportProtocol.HttpProtobuf ? new Uri(endpoint.AbsoluteUri.TrimEnd('/') + "/" + signalPath) : endpoint;
    }
}
