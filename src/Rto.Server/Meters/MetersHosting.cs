using System.Globalization;
using System.Text;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;
using Rto.Protocols.Meters;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;
using Rto.Server.Storage;

namespace Rto.Server.Meters;

/// <summary>The meters capability's front door: its options, stores, power calculator, health entry, endpoints and HTTP routes.</summary>
internal static class MetersHosting
{
    public static void AddMeters(this WebApplicationBuilder builder)
    {
        builder.AddCapability<MetersOptions>(MetersOptions.SectionName, ListenMeters, MapMeters)
            .ReportsHealth<MetersHealthCheck>(EndpointNames.Meters);
        builder.Services.AddSingleton<MeterCounters>();
        builder.Services.AddSingleton(sp =>
        {
            MetersOptions options = sp.GetRequiredService<IOptions<MetersOptions>>().Value;
            return new MeterRegistry(options.RegistryPath, sp.GetRequiredService<ILogger<MeterRegistry>>(), options.RegistryReloadDelay);
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

        builder.Services.AddSingleton<PowerCalculator>();
        if (builder.Configuration.GetValue<bool?>($"{MetersOptions.SectionName}:Enabled") ?? true)
        {
            builder.Services.AddHostedService(sp => sp.GetRequiredService<PowerCalculator>());
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
        if (options.HttpPort < 0)
        {
            return;
        }

        ServerEndpoints endpoints = app.Services.GetRequiredService<ServerEndpoints>();
        RouteGroupBuilder group = app.MapGroup("/meters");

        // The routes answer only on the meters HTTP endpoint (its port may be chosen at bind time).
        group.AddEndpointFilter(async (context, next) =>
            endpoints.Serves(EndpointNames.MetersHttp, context.HttpContext.Connection.LocalPort) ? await next(context) : Results.NotFound());

        group.MapGet("/counters", (MeterCounters counters) => Results.Ok(ToJson(counters)));
        group.MapGet("/", (MeterRegistry registry, MeterCounters counters) => Results.Ok(new
        {
            meters = registry.Meters.Values.OrderBy(m => m.Ip).Select(m => new
            {
                ip = MeterLineParser.FormatIPv4(m.Ip),
                rangeStart = m.RangeStart,
                rangeStop = m.RangeStop,
                unit = m.Unit == MeterUnit.Volt ? "V" : "A",
            }),
            counters = ToJson(counters),
        }));
        group.MapGet("/{ip}/readings", (string ip, string? from, string? to, int? limit, MeterStore store) =>
        {
            if (!MeterLineParser.TryParseIPv4(Encoding.ASCII.GetBytes(ip), out uint address))
            {
                return Results.BadRequest(new { error = $"'{ip}' is not an IPv4 address." });
            }

            if (!TryRange(from, to, out long start, out long stop, out IResult? error))
            {
                return error;
            }

            return Results.Ok(store.Query(address, start, stop, Math.Clamp(limit ?? 10_000, 1, 100_000)).Select(ToJson));
        });
        group.MapGet("/power.png", (string? from, string? to, PowerCalculator power) =>
            TryRange(from, to, out long start, out long stop, out IResult? error) ? Results.File(power.RenderPng(start, stop), "image/png") : error);
        group.MapGet("/{ip}/readings.png", (string ip, string? from, string? to, MeterStore store, MeterRegistry registry) =>
        {
            if (!MeterLineParser.TryParseIPv4(Encoding.ASCII.GetBytes(ip), out uint address))
            {
                return Results.BadRequest(new { error = $"'{ip}' is not an IPv4 address." });
            }

            if (!TryRange(from, to, out long start, out long stop, out IResult? error))
            {
                return error;
            }

            string unit = registry.TryGet(address, out MeterDefinition meter) && meter.Unit == MeterUnit.Ampere ? "Current, A" : "Voltage, V";
            byte[] png = MeterPlots.RenderPng($"Meter {MeterLineParser.FormatIPv4(address)}", unit, store.Query(address, start, stop, 100_000), options.PlotWidth, options.PlotHeight);
            return Results.File(png, "image/png");
        });
        group.MapGet("/dashboard", (MeterCounters counters, PowerCalculator power) => Results.Content(Dashboard(counters, power), "text/html; charset=utf-8"));
        group.MapGet("/power", (string? from, string? to, PowerCalculator power) =>
            TryRange(from, to, out long start, out long stop, out IResult? error) ? Results.Ok(power.Query(start, stop).Select(ToJson)) : error);
    }

    private static string Dashboard(MeterCounters counters, PowerCalculator power)
    {
        List<TimedValue> points = power.Query(long.MinValue, long.MaxValue);
        string latest = points.Count == 0 ? "none yet" : $"{points[^1].Value.ToString("0.###", CultureInfo.InvariantCulture)} W at {MeterTimestamp.ToString(points[^1].Timestamp)}";
        return "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\"><title>Rto meters</title></head>"
            + "<body style=\"font-family:sans-serif\"><h1>Power</h1><p>Latest: " + latest + "</p><img src=\"power.png\" alt=\"power chart\">"
            + "<h2>Readings</h2><table border=\"1\" cellpadding=\"4\"><tr><th>accepted</th><th>malformed</th><th>unknown meter</th><th>out of range</th></tr>"
            + string.Create(CultureInfo.InvariantCulture, $"<tr><td>{counters.Accepted}</td><td>{counters.Malformed}</td><td>{counters.UnknownMeter}</td><td>{counters.OutOfRange}</td></tr></table></body></html>");
    }

    private static object ToJson(MeterCounters counters) =>
        new { accepted = counters.Accepted, malformed = counters.Malformed, unknownMeter = counters.UnknownMeter, outOfRange = counters.OutOfRange };

    private static object ToJson(TimedValue point) => new { timestamp = MeterTimestamp.ToString(point.Timestamp), value = point.Value };

    private static bool TryRange(string? from, string? to, out long start, out long stop, out IResult error)
    {
        error = Results.Empty;
        stop = long.MaxValue;
        if (!TryTime(from, long.MinValue, out start) || !TryTime(to, long.MaxValue, out stop))
        {
            error = Results.BadRequest(new { error = "from and to must be 'yyyy.MM.dd HH:mm:ss.ffffff' or ISO 8601 local times." });
            return false;
        }

        return true;
    }

    private static bool TryTime(string? text, long missing, out long timestamp)
    {
        if (string.IsNullOrEmpty(text))
        {
            timestamp = missing;
            return true;
        }

        if (MeterTimestamp.TryParse(Encoding.ASCII.GetBytes(text), out timestamp))
        {
            return true;
        }

        if (DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out DateTime time))
        {
            timestamp = MeterTimestamp.FromDateTime(time);
            return true;
        }

        return false;
    }

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
