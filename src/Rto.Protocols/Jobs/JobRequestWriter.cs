using System.Buffers;
using System.Text.Json;

namespace Rto.Protocols.Jobs;

/// <summary>Writes jobs protocol requests, as a client sends them.</summary>
public static class JobRequestWriter
{
    /// <summary>
    /// Writes <c>{"Header":"Info","Request":request}</c>, with <c>"KeepAlive":true</c> when
    /// <paramref name="keepAlive"/> asks the server to keep the connection open after the reply.
    /// </summary>
    public static void WriteInfo(IBufferWriter<byte> output, string request, bool keepAlive)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString(JobMembers.Header, JobHeaders.Info);
        writer.WriteString(JobMembers.Request, request);
        WriteKeepAlive(writer, keepAlive);
        writer.WriteEndObject();
    }

    /// <summary>Writes <c>{"Header":"Dask","Request":{"Directory":…,"Base":…,"File":…}}</c>.</summary>
    public static void WriteJob(IBufferWriter<byte> output, JobRequest request, bool keepAlive)
    {
        ArgumentNullException.ThrowIfNull(request);
        using var writer = new Utf8JsonWriter(output);
        writer.WriteStartObject();
        writer.WriteString(JobMembers.Header, JobHeaders.Dask);
        writer.WritePropertyName(JobMembers.Request);
        JsonSerializer.Serialize(writer, request, JobsJsonContext.Default.JobRequest);
        WriteKeepAlive(writer, keepAlive);
        writer.WriteEndObject();
    }

    private static void WriteKeepAlive(Utf8JsonWriter writer, bool keepAlive)
    {
        if (keepAlive)
        {
            writer.WriteBoolean(JobMembers.KeepAlive, true);
        }
    }
}
