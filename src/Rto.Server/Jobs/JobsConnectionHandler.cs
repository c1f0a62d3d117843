using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols.Jobs;

using Rto.Server.Hosting;

namespace Rto.Server.Jobs;

/// <summary>
/// Serves the jobs protocol on one connection. Every JSON object that has arrived is answered in
/// order; after a batch whose last request did not say <c>"KeepAlive": true</c> the connection is
/// closed, as the original one-request clients expect. Invalid JSON or an oversized request gets a
/// <c>noheader</c> error and closes the connection; so does silence longer than the idle timeout.
/// </summary>
internal sealed partial class JobsConnectionHandler(JobRunner runner, JobsActivity activity, IOptions<JobsOptions> options, ServerInstruments instruments, ILogger<JobsConnectionHandler> logger)
    : ConnectionHandler
{
    private readonly JobsOptions _options = options.Value;
    private readonly ServerInstruments.EndpointInstruments _instruments = instruments.For("jobs");

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        activity.ConnectionOpened();
        try
        {
            await ServeAsync(connection);
        }
        catch (ConnectionResetException)
        {
            // The client went away; nothing is left to answer.
        }
        finally
        {
            activity.ConnectionClosed();
            await connection.Transport.Input.CompleteAsync();
            await connection.Transport.Output.CompleteAsync();
        }
    }

    private async Task ServeAsync(ConnectionContext connection)
    {
        PipeReader input = connection.Transport.Input;
        PipeWriter output = connection.Transport.Output;
        CancellationToken closing = connection.CloseRequested();
        var framer = new JsonFrameReader(_options.MaxFrameSize);
        while (true)
        {
            ReadResult result;
            using (var idle = CancellationTokenSource.CreateLinkedTokenSource(closing))
            {
                idle.CancelAfter(_options.IdleTimeout);
                try
                {
                    result = await input.ReadAsync(idle.Token);
                }
                catch (OperationCanceledException) when (idle.IsCancellationRequested)
                {
                    if (!closing.IsCancellationRequested)
                    {
                        _instruments.Errors("idle_timeout");
                        LogIdle(connection.ConnectionId, _options.IdleTimeout.TotalSeconds);
                    }

                    return;
                }
            }

            ReadOnlySequence<byte> buffer = result.Buffer;
            bool answered = false, keepAlive = false, close = false;
            while (!close)
            {
                JsonFrameStatus status = framer.TryReadFrame(ref buffer, out ReadOnlySequence<byte> frame);
                if (status == JsonFrameStatus.NeedMoreData)
                {
                    break;
                }

                long started = _instruments.MeasuresDuration ? Stopwatch.GetTimestamp() : 0;
                _instruments.Requests(1);
                if (status == JsonFrameStatus.Frame)
                {
                    try
                    {
                        keepAlive = await AnswerAsync(frame, output, closing, connection.ConnectionClosed);
                        answered = true;
                    }
                    catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
                    {
                        // Well-formed structure but unusable content (e.g. invalid UTF-8 in a string):
                        // a reply being written is never advanced into the pipe, so only this one goes out.
                        _instruments.Errors("invalid_json");
                        JobReplyWriter.WriteNoHeader(output, $"The request is not valid JSON: {ex.Message}");
                        close = true;
                    }
                }
                else
                {
                    _instruments.Errors(status == JsonFrameStatus.TooLarge ? "too_large" : "invalid_json");
                    JobReplyWriter.WriteNoHeader(output, status == JsonFrameStatus.TooLarge
                        ? $"The request is larger than the maximum of {_options.MaxFrameSize} bytes."
                        : $"The request is not valid JSON: {framer.InvalidReason}");
                    close = true;
                }

                _instruments.BytesSent(output.CanGetUnflushedBytes ? output.UnflushedBytes : 0);
                bool gone = (await output.FlushAsync()).IsCompleted;
                _instruments.Duration(started);
                if (gone)
                {
                    return;
                }
            }

            _instruments.BytesReceived(result.Buffer.Length - buffer.Length);
            input.AdvanceTo(buffer.Start, result.Buffer.End);
            if (close || (answered && !keepAlive) || result.IsCompleted)
            {
                return;
            }
        }
    }

    /// <summary>Answers one request; returns whether it asked to keep the connection open.</summary>
    /// <remarks><paramref name="clientGone"/> fires when the client closes or resets its side (Kestrel saw the FIN or RST).</remarks>
    private async ValueTask<bool> AnswerAsync(ReadOnlySequence<byte> frame, PipeWriter output, CancellationToken closing, CancellationToken clientGone)
    {
        using JsonDocument document = JsonDocument.Parse(frame);
        JsonElement request = document.RootElement;
        if (request.ValueKind != JsonValueKind.Object)
        {
            _instruments.Errors("not_an_object");
            JobReplyWriter.WriteNoHeader(output, $"The request must be a JSON object, not {request.ValueKind.ToString().ToLowerInvariant()}.");
            return false;
        }

        bool keepAlive = request.TryGetProperty("KeepAlive", out JsonElement k) && k.ValueKind == JsonValueKind.True;
        if (!request.TryGetProperty("Header", out JsonElement header) || header.ValueKind != JsonValueKind.String)
        {
            _instruments.Errors("no_header");
            JobReplyWriter.WriteNoHeader(output, "The request has no \"Header\" string member.");
            return keepAlive;
        }

        if (header.ValueEquals(JobHeaders.Info) || string.Equals(header.GetString(), JobHeaders.Info, StringComparison.OrdinalIgnoreCase))
        {
            AnswerInfo(request, output);
        }
        else if (string.Equals(header.GetString(), JobHeaders.Dask, StringComparison.OrdinalIgnoreCase))
        {
            // "KeepRunning": true lets a job finish (and write its result) after its client left.
            bool keepRunning = request.TryGetProperty("KeepRunning", out JsonElement run) && run.ValueKind == JsonValueKind.True;
            await AnswerJobAsync(request, output, closing, keepRunning ? CancellationToken.None : clientGone);
        }
        else
        {
            _instruments.Errors("unknown_header");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, "Unknown header.");
        }

        return keepAlive;
    }

    private void AnswerInfo(JsonElement request, PipeWriter output)
    {
        string? what = request.TryGetProperty("Request", out JsonElement r) && r.ValueKind == JsonValueKind.String ? r.GetString() : null;
        string status = $"Status: {(activity.RunningJobs > 0 ? "Work" : "Ready")}";
        string dask = $"Dask process: {activity.RunningJobs}";

        // The original counts itself as one process and each connection it serves as another.
        string all = $"All process: {1 + activity.Connections}";
        string? answer = what?.ToLowerInvariant() switch
        {
            "status" => status,
            "dask process" => dask,
            "all process" => all,
            "all statistic" => $"All statistic: {status} {dask} {all}",
            _ => null,
        };
        if (answer is null)
        {
            _instruments.Errors("unknown_info_request");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error,
                $"Unknown Info request; the Info requests are \"{InfoRequests.Status}\", \"{InfoRequests.DaskProcess}\", \"{InfoRequests.AllProcess}\" and \"{InfoRequests.AllStatistic}\".");
            return;
        }

        JobReplyWriter.WriteReply(output, request, JobStatus.Complete, answer);
    }

    private async Task AnswerJobAsync(JsonElement request, PipeWriter output, CancellationToken closing, CancellationToken clientGone)
    {
        JobRequest? job = null;
        if (request.TryGetProperty("Request", out JsonElement r) && r.ValueKind == JsonValueKind.Object)
        {
            try
            {
                job = r.Deserialize(JobsJsonContext.Default.JobRequest);
            }
            catch (JsonException)
            {
                job = null;
            }
        }

        if (job is null)
        {
            _instruments.Errors("invalid_job_request");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, "A Dask request needs \"Request\": {\"Directory\": …, \"Base\": …, \"File\": …} with string members.");
            return;
        }

        JobOutcome outcome = await runner.RunAsync(job, closing, clientGone);
        if (outcome.Error is not null)
        {
            _instruments.Errors("job_failed");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, outcome.Error);
        }
        else
        {
            JobReplyWriter.WriteJobResult(output, request, new JobResult { Directory = job.Directory, File = outcome.ResultFile });
        }
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "Jobs connection {ConnectionId} closed after {IdleSeconds} s without a complete request")]
    private partial void LogIdle(string connectionId, double idleSeconds);
}
