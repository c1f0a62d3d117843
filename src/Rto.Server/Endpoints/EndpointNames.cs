namespace Rto.Server.Endpoints;

/// <summary>
/// The names of the server's endpoints: in the start-up banner (<c>metrics endpoint (…) listening on …</c>),
/// the <c>endpoint</c> tag of every instrument, the log scope of every connection, and
/// <see cref="ServerEndpoints.GetEndPoint"/>. Scripts read the banner, so a name never changes.
/// </summary>
public static class EndpointNames
{
    /// <summary>The metrics put/get text protocol (raw TCP).</summary>
    public const string Metrics = "metrics";

    /// <summary>Meter readings as TSV lines (raw TCP).</summary>
    public const string Meters = "meters";

    /// <summary>The meters JSON/PNG queries (HTTP/1.1).</summary>
    public const string MetersHttp = "meters-http";

    /// <summary>JSON jobs over Parquet files (raw TCP).</summary>
    public const string Jobs = "jobs";

    /// <summary>The messenger gRPC service (HTTP/2).</summary>
    public const string Messenger = "messenger";

    /// <summary>The optimization gRPC services (HTTP/2).</summary>
    public const string Optimization = "optimization";

    /// <summary>The HTTP health checks.</summary>
    public const string Health = "health";

    /// <summary>The operator console (HTTP/1.1): live pages of every capability and the Prometheus scrape.</summary>
    public const string Console = "console";
}
