using OpenTelemetry.Exporter;

namespace Rto.Server.Endpoints;

/// <summary>
/// Export of the server's instruments and traces to an OpenTelemetry collector (section
/// <c>Telemetry</c>). The Prometheus scrape endpoint is the console's (<c>/metrics</c>); this is the
/// push side, off until <see cref="OtlpEndpoint"/> is set.
/// </summary>
public sealed class TelemetryOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Telemetry";

    /// <summary>
    /// The collector's base address, e.g. <c>http://collector:4317</c> (gRPC) or <c>http://collector:4318</c>
    /// (HTTP/protobuf, which appends <c>/v1/metrics</c> and <c>/v1/traces</c>); empty exports nothing.
    /// </summary>
    public string OtlpEndpoint { get; set; } = "";

    /// <summary><c>Grpc</c> or <c>HttpProtobuf</c>.</summary>
    public OtlpExportProtocol OtlpProtocol { get; set; } = OtlpExportProtocol.Grpc;

    /// <summary>How often metrics are pushed, and the longest a finished span waits in the export batch.</summary>
    public TimeSpan ExportInterval { get; set; } = TimeSpan.FromSeconds(15);

    /// <summary>The <c>service.name</c> resource attribute of everything exported.</summary>
    public string ServiceName { get; set; } = "rto-server";

    /// <summary>The collector address, or an <see cref="InvalidOperationException"/> naming the bad setting; null when export is off.</summary>
    internal Uri? Validate()
    {
        if (ExportInterval <= TimeSpan.Zero || ExportInterval > TimeSpan.FromHours(1))
        {
            throw new InvalidOperationException($"Telemetry:ExportInterval must be positive and at most an hour, not {ExportInterval}.");
        }

        if (string.IsNullOrWhiteSpace(ServiceName))
        {
            throw new InvalidOperationException("Telemetry:ServiceName must be set.");
        }

        if (string.IsNullOrWhiteSpace(OtlpEndpoint))
        {
            return null;
        }

        if (!Uri.TryCreate(OtlpEndpoint, UriKind.Absolute, out Uri? endpoint) || (endpoint.Scheme != Uri.UriSchemeHttp && endpoint.Scheme != Uri.UriSchemeHttps))
        {
            throw new InvalidOperationException($"Telemetry:OtlpEndpoint '{OtlpEndpoint}' is not an http:// or https:// address.");
        }

        return endpoint;
    }
}
