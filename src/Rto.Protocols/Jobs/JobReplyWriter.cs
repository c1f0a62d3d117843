using System.Buffers;
using System.Text.Encodings.Web;
using System.Text.Json;

namespace Rto.Protocols.Jobs;

/// <summary>
/// Writes jobs protocol replies: the request object echoed member by member, with a
/// <c>Response</c> member added (a <c>Response</c> the request itself carried is replaced).
/// </summary>
public static class JobReplyWriter
{
    private static readonly JsonWriterOptions s_options = new()
    {
        // Replies go to programs over TCP, not into HTML: keep messages readable.
        Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping,
        SkipValidation = false,
    };

    [ThreadStatic]
    private static Utf8JsonWriter? t_writer;

    /// <summary>Writes the reply to <paramref name="request"/> with a text <c>Discription</c>.</summary>
    public static void WriteReply(IBufferWriter<byte> output, JsonElement request, string status, string discription)
    {
        Utf8JsonWriter writer = Rent(output);
        WriteEcho(writer, request);
        WriteResponse(writer, status, discription);
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>Writes the <c>complete</c> reply to a job request whose result is <paramref name="result"/>.</summary>
    public static void WriteJobResult(IBufferWriter<byte> output, JsonElement request, JobResult result)
    {
        ArgumentNullException.ThrowIfNull(result);
        Utf8JsonWriter writer = Rent(output);
        WriteEcho(writer, request);
        writer.WriteStartObject(JobMembers.Response);
        writer.WriteString(JobMembers.Status, JobStatus.Complete);
        writer.WriteStartObject(JobMembers.Discription);
        writer.WriteString("Directory", result.Directory);
        writer.WriteString("File", result.File);
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.WriteEndObject();
        writer.Flush();
    }

    /// <summary>
    /// Writes the reply to bytes that are not JSON, or JSON without a <c>Header</c>:
    /// <c>{"Header":"noheader","Response":{"Status":"error","Discription":reason}}</c>.
    /// </summary>
    public static void WriteNoHeader(IBufferWriter<byte> output, string reason)
    {
        Utf8JsonWriter writer = Rent(output);
        writer.WriteStartObject();
        writer.WriteString(JobMembers.Header, JobHeaders.NoHeader);
        WriteResponse(writer, JobStatus.Error, reason);
        writer.WriteEndObject();
        writer.Flush();
    }

    private static void WriteEcho(Utf8JsonWriter writer, JsonElement request)
    {
        writer.WriteStartObject();
        if (request.ValueKind != JsonValueKind.Object)
        {
            return;
        }

        foreach (JsonProperty property in request.EnumerateObject())
        {
            if (!property.NameEquals("Response"u8))
            {
                property.WriteTo(writer);
            }
        }
    }

    private static void WriteResponse(Utf8JsonWriter writer, string status, string discription)
    {
        writer.WriteStartObject(JobMembers.Response);
        writer.WriteString(JobMembers.Status, status);
        writer.WriteString(JobMembers.Discription, discription);
        writer.WriteEndObject();
    }

    private static Utf8JsonWriter Rent(IBufferWriter<byte> output)
    {
        ArgumentNullException.ThrowIfNull(output);
        if (t_writer is null)
        {
            t_writer = new Utf8JsonWriter(output, s_options);
        }
        else
        {
            t_writer.Reset(output);
        }

        return t_writer;
    }
}
