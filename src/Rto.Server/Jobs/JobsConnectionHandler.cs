using System.Buffers;
using System.IO.Pipelines;
using System.Text.Json;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols;
using Rto.Protocols.Jobs;
using Rto.Server.Endpoints;

namespace Rto.Server.Jobs;

/// <summary>
/// Serves the jobs protocol on one connection. Every JSON object that has arrived is answered in
/// order; after a batch whose last request did not say <c>"KeepAlive": true</c> the connection is
/// closed, as the original one-request clients expect. Invalid JSON or an oversized request gets a
/// <c>noheader</c> error and closes the connection. The loop closes a connection silent for longer
/// than <see cref="TcpEndpointOptions.IdleTimeout"/>, or whose request trickles in for longer than
/// <see cref="TcpEndpointOptions.FrameTimeout"/>.
/// </summary>
internal sealed class JobsConnectionHandler(IJobDispatcher jobs, JobsActivity activity, IOptions<JobsOptions> options, ServerInstruments instruments, ILogger<JobsConnectionHandler> logger)
    : TcpConnectionHandler(instruments, EndpointNames.Jobs, logger)
{
    private readonly JobsOptions _options = options.Value;

    protected override TcpSession CreateSession(ConnectionContext connection)
    {
        activity.ConnectionOpened();
        return new Session(this, connection.ConnectionClosed);
    }

    private void SessionClosed() => activity.ConnectionClosed();

    /// <summary>One connection: its request reader, the request being answered, and whether to keep the connection after this batch.</summary>
    /// <remarks><paramref name="clientGone"/> fires when the client closes or resets its side (Kestrel saw the FIN or RST).</remarks>
    private sealed class Session(JobsConnectionHandler handler, CancellationToken clientGone) : TcpSession(handler.Instruments)
    {
        private JobRequestReader _reader = new(handler._options.MaxFrameSize);
        private JobEnvelope? _request;
        private bool _answered, _keepAlive, _close;

        public override TcpStep Process(ref ReadOnlySequence<byte> buffer, PipeWriter output)
        {
            if (_close)
            {
                return TcpStep.Close;
            }

            SequencePosition consumed = buffer.Start, examined = buffer.End;
            bool taken = _reader.TryParseMessage(buffer, ref consumed, ref examined, out JobEnvelope? request);
            buffer = buffer.Slice(consumed);
            if (!taken)
            {
                // The original one-request clients expect the close after a batch whose last request
                // did not say "KeepAlive": true.
                bool close = _answered && !_keepAlive;
                _answered = _keepAlive = false;
                return close ? TcpStep.Close : TcpStep.NeedMoreData;
            }

            Instruments.Requests(1);
            if (request!.Status == MessageStatus.Valid)
            {
                _request = request;
                return TcpStep.Await;
            }

            using (request)
            {
                Instruments.Errors(request.Status == MessageStatus.TooLarge ? "too_large" : "invalid_json");
                JobReplyWriter.WriteNoHeader(output, request.Error!);
            }

            _close = true;
            return TcpStep.Reply;
        }

        public override async ValueTask<TcpStep> ContinueAsync(PipeWriter output, CancellationToken closing)
        {
            using JobEnvelope request = _request!;
            _request = null;
            try
            {
                _keepAlive = await handler.AnswerAsync(request, output, closing, clientGone);
                _answered = true;
            }
            catch (Exception ex) when (ex is JsonException or ArgumentException or InvalidOperationException)
            {
                // Well-formed structure but unusable content (e.g. invalid UTF-8 in a string):
                // a reply being written is never advanced into the pipe, so only this one goes out.
                Instruments.Errors("invalid_json");
                JobReplyWriter.WriteNoHeader(output, $"The request is not valid JSON: {ex.Message}");
                _close = true;
            }

            return TcpStep.Reply;
        }

        public override void Closed()
        {
            _request?.Dispose();
            handler.SessionClosed();
        }
    }

    /// <summary>Answers one request; returns whether it asked to keep the connection open.</summary>
    private async ValueTask<bool> AnswerAsync(JobEnvelope envelope, PipeWriter output, CancellationToken closing, CancellationToken clientGone)
    {
        JsonElement request = envelope.Root;
        if (!envelope.IsObject)
        {
            Instruments.Errors("not_an_object");
            JobReplyWriter.WriteNoHeader(output, $"The request must be a JSON object, not {request.ValueKind.ToString().ToLowerInvariant()}.");
            return false;
        }

        if (envelope.Header is not { } header)
        {
            Instruments.Errors("no_header");
            JobReplyWriter.WriteNoHeader(output, "The request has no \"Header\" string member.");
            return envelope.KeepAlive;
        }

        if (string.Equals(header, JobHeaders.Info, StringComparison.OrdinalIgnoreCase))
        {
            await AnswerInfoAsync(envelope, output, closing);
        }
        else if (string.Equals(header, JobHeaders.Dask, StringComparison.OrdinalIgnoreCase))
        {
            // "KeepRunning": true lets a job finish (and write its result) after its client left.
            await AnswerJobAsync(envelope, output, closing, envelope.KeepRunning ? CancellationToken.None : clientGone);
        }
        else
        {
            Instruments.Errors("unknown_header");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, "Unknown header.");
        }

        return envelope.KeepAlive;
    }

    private async Task AnswerInfoAsync(JobEnvelope envelope, PipeWriter output, CancellationToken closing)
    {
        JsonElement request = envelope.Root;
        string? what = envelope.GetInfoRequest();
        JobsCounts counts = await jobs.CountAsync(closing);
        string status = $"Status: {(counts.Running + counts.Queued > 0 ? "Work" : "Ready")}";
        string dask = $"Dask process: {counts.Running}";
        string all = $"All process: {counts.Processes}";
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
            Instruments.Errors("unknown_info_request");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error,
                $"Unknown Info request; the Info requests are \"{InfoRequests.Status}\", \"{InfoRequests.DaskProcess}\", \"{InfoRequests.AllProcess}\" and \"{InfoRequests.AllStatistic}\".");
            return;
        }

        JobReplyWriter.WriteReply(output, request, JobStatus.Complete, answer);
    }

    private async Task AnswerJobAsync(JobEnvelope envelope, PipeWriter output, CancellationToken closing, CancellationToken clientGone)
    {
        JsonElement request = envelope.Root;
        JobRequest? job = envelope.GetJobRequest();
        if (job is null)
        {
            Instruments.Errors("invalid_job_request");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, "A Dask request needs \"Request\": {\"Directory\": …, \"Base\": …, \"File\": …} with string members.");
            return;
        }

        JobOutcome outcome = await jobs.RunAsync(job, closing, clientGone);
        if (outcome.Error is not null)
        {
            Instruments.Errors("job_failed");
            JobReplyWriter.WriteReply(output, request, JobStatus.Error, outcome.Error);
        }
        else
        {
            JobReplyWriter.WriteJobResult(output, request, new JobResult { Directory = job.Directory, File = outcome.ResultFile });
        }
    }
}
