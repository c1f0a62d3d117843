using System.Buffers;
using System.Diagnostics.CodeAnalysis;
using System.Text.Json;

namespace Rto.Protocols.Jobs;

/// <summary>
/// One message of the jobs protocol, as <see cref="JobRequestReader"/> or
/// <see cref="JobReplyReader"/> read it: a JSON object with a <c>Header</c>, a <c>Request</c>,
/// an optional <c>"KeepAlive": true</c> and, in a reply, the <c>Response</c>. It owns the
/// parsed document (pooled memory): dispose it once the reply to it is written.
/// </summary>
public sealed class JobEnvelope : IDisposable
{
    private readonly JsonDocument? _document;

    private JobEnvelope(MessageStatus status, string? error, JsonDocument? document, string? header, bool keepAlive, bool keepRunning, JobResponse? response)
    {
        Status = status;
        Error = error;
        _document = document;
        Header = header;
        KeepAlive = keepAlive;
        KeepRunning = keepRunning;
        Response = response;
        if (document is not null)
        {
            Root = document.RootElement;
            Request = Root.ValueKind == JsonValueKind.Object && Root.TryGetProperty(JobMembers.Request, out JsonElement request) ? request : default;
        }
    }

    /// <summary>
    /// <see cref="MessageStatus.Valid"/>; <see cref="MessageStatus.Malformed"/> when the bytes are
    /// not JSON (or a reply has no <c>Response</c>); <see cref="MessageStatus.TooLarge"/> when the
    /// value did not end within the maximum size. After either of the last two the stream cannot
    /// be resynchronised (the reader has consumed everything it was given): answer (or fail) and
    /// close the connection.
    /// </summary>
    public MessageStatus Status { get; }

    /// <summary>Why the message is not valid, as one sentence; null when it is.</summary>
    public string? Error { get; }

    /// <summary>The whole JSON value (a reply echoes it); <see cref="JsonValueKind.Undefined"/> unless the bytes were JSON.</summary>
    public JsonElement Root { get; }

    /// <summary>Whether <see cref="Root"/> is a JSON object, as every message of the protocol must be.</summary>
    public bool IsObject => Root.ValueKind == JsonValueKind.Object;

    /// <summary>The <c>Header</c> string (<see cref="JobHeaders"/>), or null when the object has none or it is not a string.</summary>
    public string? Header { get; }

    /// <summary>True when the object says <c>"KeepAlive": true</c>: the server keeps the connection open after the reply.</summary>
    public bool KeepAlive { get; }

    /// <summary>True when the object says <c>"KeepRunning": true</c>: a job goes on (and writes its result) after its client left.</summary>
    public bool KeepRunning { get; }

    /// <summary>The <c>Request</c> member; <see cref="JsonValueKind.Undefined"/> when there is none.</summary>
    public JsonElement Request { get; }

    /// <summary>The <c>Response</c> of a reply (never null in a valid one from <see cref="JobReplyReader"/>); null in a request.</summary>
    public JobResponse? Response { get; }

    /// <summary>The <c>Request</c> of an Info message (<see cref="InfoRequests"/>), or null when it is not a string.</summary>
    /// <exception cref="InvalidOperationException">The string is not valid UTF-8.</exception>
    public string? GetInfoRequest() => Request.ValueKind == JsonValueKind.String ? Request.GetString() : null;

    /// <summary>The <c>Request</c> of a job message, or null when it is not an object whose members are strings.</summary>
    /// <exception cref="InvalidOperationException">A string is not valid UTF-8.</exception>
    public JobRequest? GetJobRequest()
    {
        if (Request.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        try
        {
            return Request.Deserialize(JobsJsonContext.Default.JobRequest);
        }
        catch (JsonException)
        {
            return null;
        }
    }

    /// <summary>Returns the parsed document's memory to its pool.</summary>
    public void Dispose() => _document?.Dispose();

    /// <summary>The framing both jobs readers share: a complete JSON value, then its envelope.</summary>
    internal static bool TryRead(ref JsonFrameReader framer, in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, bool isReply, [MaybeNullWhen(false)] out JobEnvelope message)
    {
        ReadOnlySequence<byte> rest = input;
        JsonFrameStatus status = framer.TryReadFrame(ref rest, out ReadOnlySequence<byte> frame);
        consumed = rest.Start;
        if (status == JsonFrameStatus.NeedMoreData)
        {
            examined = input.End;
            message = null;
            return false;
        }

        if (status == JsonFrameStatus.Frame)
        {
            examined = consumed;
            message = Parse(frame, isReply);
            return true;
        }

        // Nothing after bytes that are not JSON can be trusted to start a message: take them all.
        consumed = examined = input.End;
        message = status == JsonFrameStatus.TooLarge
            ? Rejected(MessageStatus.TooLarge, $"The {(isReply ? "reply" : "request")} is larger than the maximum of {framer.MaxFrameSize} bytes.")
            : Rejected(MessageStatus.Malformed, isReply ? $"The reply is not JSON: {framer.InvalidReason}" : $"The request is not valid JSON: {framer.InvalidReason}");
        return true;
    }

    internal static JobEnvelope Rejected(MessageStatus status, string error) => new(status, error, null, null, false, false, null);

    /// <summary>Parses a complete JSON value; <paramref name="isReply"/> requires a <c>Response</c> with a <c>Status</c>.</summary>
    internal static JobEnvelope Parse(in ReadOnlySequence<byte> frame, bool isReply)
    {
        JsonDocument? document = null;
        try
        {
            document = JsonDocument.Parse(frame);
            JsonElement root = document.RootElement;
            string? header = null;
            bool keepAlive = false, keepRunning = false;
            JobResponse? response = null;
            if (root.ValueKind == JsonValueKind.Object)
            {
                header = root.TryGetProperty(JobMembers.Header, out JsonElement h) && h.ValueKind == JsonValueKind.String ? h.GetString() : null;
                keepAlive = root.TryGetProperty(JobMembers.KeepAlive, out JsonElement k) && k.ValueKind == JsonValueKind.True;
                keepRunning = root.TryGetProperty(JobMembers.KeepRunning, out JsonElement run) && run.ValueKind == JsonValueKind.True;
                if (isReply && root.TryGetProperty(JobMembers.Response, out JsonElement r))
                {
                    response = r.Deserialize(JobsJsonContext.Default.JobResponse);
                }
            }

            if (isReply && response?.Status is null)
            {
                document.Dispose();
                return Rejected(MessageStatus.Malformed, "The reply has no Response with a Status.");
            }

            return new JobEnvelope(MessageStatus.Valid, null, document, header, keepAlive, keepRunning, response);
        }
        catch (Exception ex) when (ex is JsonException or InvalidOperationException)
        {
            // The tokenizer accepted the frame, but a string is not valid UTF-8 or a member has the wrong type.
            document?.Dispose();
            return Rejected(MessageStatus.Malformed, isReply ? $"The reply has no valid Response: {ex.Message}" : $"The request is not valid JSON: {ex.Message}");
        }
    }
}
