using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols;
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
        var reader = new JobRequestReader(_options.MaxFrameSize);
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
                long started = _instruments.MeasuresDuration ? Stopwatch.GetTimestamp() : 0;
                SequencePosition consumed = buffer.Start, examined = buffer.End;
                bool taken = reader.TryParseMessage(buffer, ref consumed, ref examined, out JobEnvelope? request);
                buffer = buffer.Slice(consumed);
                if (!taken)
                {
                    break;
                }

                using JobEnvelope message = request!;
                _instruments.Requests(1);
                if (message.Status == MessageStatus.Valid)
                {
                    try
                    {
                        keepAlive = await AnswerAsync(message, output, closing);
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
                    _instruments.Errors(message.Status == MessageStatus.TooLarge ? "too_large" : "invalid_json");
                    JobReplyWriter.WriteNoHeader(output, message.Error!);
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
    private async ValueTask<bool> AnswerAsync(JobEnvelope envelope, PipeWriter output, CancellationToken closing)
    {
        JsonElement request = envelope.Root;
        if (!envelope.IsObject)
        {
            _instruments.Errors("not_an_object");
            JobReplyWriter.WriteNoHeader(output, $"The request must be a JSON object, not {request.ValueKind.ToString().ToLowerInvariant()}.");
            return false;
        }

        if (envelope.Header is not { } header)
        {
            _instruments.Errors("no_header");
            JobReplyWriter.WriteNoHeader(output, "The request has no \"Header\" string member.");
            return envelope.KeepAlive;
        }

        if (string.Equals(header, JobHeaders.Info, StringComparison.OrdinalIgnoreCase))
        {
            AnswerInfo(envelope, output);
        }
        else if (string.Equals(header, JobHeaders.Dask, StringComparison.OrdinalIgnoreCase))
        {
            await AnswerJobAsync(envelope, output, closing);
        }
        else
        {
            _instruments.Errors("unknown_header");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, "Unknown header.");
        }

        return envelope.KeepAlive;
    }

    private void AnswerInfo(JobEnvelope envelope, PipeWriter output)
    {
        JsonElement request = envelope.Root;
        string? what = envelope.GetInfoRequest();
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

    private async Task AnswerJobAsync(JobEnvelope envelope, PipeWriter output, CancellationToken closing)
    {
        JsonElement request = envelope.Root;
        JobRequest? job = envelope.GetJobRequest();
        if (job is null)
        {
            _instruments.Errors("invalid_job_request");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, "A Dask request needs \"Request\": {\"Directory\": …, \"Base\": …, \"File\": …} with string members.");
            return;
        }

        JobOutcome outcome = await runner.RunAsync(job, closing);
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
