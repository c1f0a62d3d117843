using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rto.Protocols.Jobs;

/// <summary>The <c>Header</c> values of the jobs protocol (matched case-insensitively by the server).</summary>
public static class JobHeaders
{
    /// <summary>Questions about the server itself.</summary>
    public const string Info = "Info";

    /// <summary>A job request (the original protocol's name).</summary>
    public const string Dask = "Dask";

    /// <summary>The header of the reply to a request that is not JSON or has no <c>Header</c>.</summary>
    public const string NoHeader = "noheader";
}

/// <summary>The member names of the envelope, with the original protocol's spelling.</summary>
internal static class JobMembers
{
    public const string Header = "Header";
    public const string Request = "Request";
    public const string KeepAlive = "KeepAlive";
    public const string KeepRunning = "KeepRunning";
    public const string Response = "Response";
    public const string Status = "Status";
    public const string Discription = "Discription";
}

/// <summary>The <c>Request</c> values of an <see cref="JobHeaders.Info"/> request.</summary>
public static class InfoRequests
{
    /// <summary><c>Status: Ready</c> or <c>Status: Work</c>.</summary>
    public const string Status = "Status";

    /// <summary>The number of jobs running now.</summary>
    public const string DaskProcess = "Dask process";

    /// <summary>The server itself plus the connections being served now.</summary>
    public const string AllProcess = "All process";

    /// <summary>The three above, space-joined.</summary>
    public const string AllStatistic = "All statistic";
}

/// <summary>The <c>Status</c> values of a reply.</summary>
public static class JobStatus
{
    /// <summary>The request succeeded.</summary>
    public const string Complete = "complete";

    /// <summary>The request failed; <c>Discription</c> says why.</summary>
    public const string Error = "error";
}

/// <summary>The <c>Request</c> member of a job (<c>Dask</c>) request.</summary>
public sealed class JobRequest
{
    /// <summary>The folder holding the input and receiving the result; must lie under a data root of the server.</summary>
    public string? Directory { get; set; }

    /// <summary>The Parquet input file in <see cref="Directory"/>.</summary>
    public string? Base { get; set; }

    /// <summary>The task file in <see cref="Directory"/>: a <c>.sql</c> query or a <c>.task</c> built-in operation.</summary>
    public string? File { get; set; }
}

/// <summary>The <c>Discription</c> of a successful job: where its result was written.</summary>
public sealed class JobResult
{
    /// <summary>The job's folder, as the request named it.</summary>
    public string? Directory { get; set; }

    /// <summary>The result file name (<c>&lt;task&gt;_ansver.parquet</c>) in <see cref="Directory"/>.</summary>
    public string? File { get; set; }
}

/// <summary>The <c>Response</c> member every reply carries.</summary>
public sealed class JobResponse
{
    /// <summary><see cref="JobStatus.Complete"/> or <see cref="JobStatus.Error"/>.</summary>
    public string? Status { get; set; }

    /// <summary>
    /// A string for Info replies and errors, a <see cref="JobResult"/> object for a finished job.
    /// The member name keeps the original protocol's spelling.
    /// </summary>
    public JsonElement Discription { get; set; }

    /// <summary>True when <see cref="Status"/> is <see cref="JobStatus.Complete"/>.</summary>
    [JsonIgnore]
    public bool IsComplete => string.Equals(Status, JobStatus.Complete, StringComparison.Ordinal);

    /// <summary>The <c>Discription</c> as text: the string itself, or the raw JSON of an object.</summary>
    [JsonIgnore]
    public string DiscriptionText => Discription.ValueKind switch
    {
        JsonValueKind.String => Discription.GetString() ?? string.Empty,
        JsonValueKind.Undefined => string.Empty,
        _ => Discription.GetRawText(),
    };

    /// <summary>The result of a finished job, or null when <c>Discription</c> is not one.</summary>
    public JobResult? GetResult() =>
        Discription.ValueKind == JsonValueKind.Object ? Discription.Deserialize(JobsJsonContext.Default.JobResult) : null;
}

/// <summary>System.Text.Json source-generated metadata for the jobs protocol types (no reflection).</summary>
[JsonSourceGenerationOptions(DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull)]
[JsonSerializable(typeof(JobRequest))]
[JsonSerializable(typeof(JobResult))]
[JsonSerializable(typeof(JobResponse))]
public sealed partial class JobsJsonContext : JsonSerializerContext;
