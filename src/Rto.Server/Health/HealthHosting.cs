using System.Text.Json;
using Microsoft.AspNetCore.Diagnostics.HealthChecks;
using Microsoft.AspNetCore.Server.Kestrel.Core;
using Microsoft.Extensions.Diagnostics.HealthChecks;
using Rto.Server.Endpoints;

namespace Rto.Server.Health;

/// <summary>
/// The health capability's front door: the HTTP endpoint orchestrators probe. <c>/health/live</c>
/// answers 200 while the process serves requests; <c>/health</c> (alias <c>/health/ready</c>) runs
/// the entry every enabled capability reports and answers 200 for Healthy or Degraded and 503 for
/// Unhealthy, with a JSON body naming each entry. It knows no capability: each adds its own entry.
/// </summary>
internal static class HealthHosting
{
    public static void AddHealth(this WebApplicationBuilder builder) =>
        builder.AddCapability<HealthOptions>(HealthOptions.SectionName, ListenHealth, MapHealth);

    private static void ListenHealth(EndpointListener listener, HealthOptions options) =>
        listener.ListenHttp(EndpointNames.Health, "HTTP health checks, GET /health and /health/live", HttpProtocols.Http1);

    private static void MapHealth(WebApplication app, HealthOptions options)
    {
        ServerEndpoints endpoints = app.Services.GetRequiredService<ServerEndpoints>();
        var report = new HealthCheckOptions { ResponseWriter = WriteReportAsync };
        var live = new HealthCheckOptions { Predicate = _ => false, ResponseWriter = WriteReportAsync };

        // Only on the health endpoint's own port, which may have been chosen at bind time.
        app.UseWhen(
            context => endpoints.Serves(EndpointNames.Health, context.Connection.LocalPort),
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
