using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols;
using Rto.Server.Hosting;
using Rto.Protocols.Metrics;

namespace Rto.Server.Metrics;

/// <summary>
/// Serves the metrics protocol on one connection: reads whatever lines have arrived, answers
/// them in order, makes their puts durable with one log commit, then flushes all the replies.
/// </summary>
internal sealed partial class MetricsConnectionHandler(MetricStore store, IOptions<MetricsOptions> options, ServerInstruments instruments, ILogger<MetricsConnectionHandler> logger)
    : ConnectionHandler
{
    // Stop taking more requests from a batch once this much reply data waits to be flushed, so
    // a client pipelining large gets is held back by its own reading speed.
    private const int MaxPendingReplyBytes = 256 * 1024;

    private readonly int _maxLineLength = options.Value.MaxLineLength;
    private readonly ServerInstruments.EndpointInstruments _instruments = instruments.For("metrics");

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        PipeReader input = connection.Transport.Input;
        PipeWriter output = connection.Transport.Output;
        CancellationToken closing = connection.CloseRequested();
        var reader = new MetricsRequestReader(_maxLineLength);
        try
        {
            while (true)
            {
                if (await input.ReadUnlessClosingAsync(closing) is not ReadResult result)
                {
                    break;
                }

                long started = _instruments.MeasuresDuration ? Stopwatch.GetTimestamp() : 0;
                ReadOnlySequence<byte> buffer = result.Buffer;
                var tally = default(BatchTally);
                bool outputOpen = true;
                while (outputOpen)
                {
                    Batch batch = ProcessLines(ref reader, ref buffer, output, ref tally);
                    if (batch.CommitPosition > 0)
                    {
                        store.Commit(batch.CommitPosition);
                    }

                    if (batch.Stop == BatchStop.GetAll)
                    {
                        outputOpen = await WriteAllPointsAsync(output);
                    }
                    else if (batch.Stop == BatchStop.OutputFull)
                    {
                        outputOpen = !(await output.FlushAsync()).IsCompleted;
                    }
                    else
                    {
                        break;
                    }
                }

                input.AdvanceTo(buffer.Start, result.Buffer.End);
                tally.BytesSent += output.CanGetUnflushedBytes ? output.UnflushedBytes : 0;
                bool stop = !outputOpen || (await output.FlushAsync()).IsCompleted || result.IsCompleted;
                Report(in tally, result.Buffer.Length - buffer.Length, started);
                if (stop)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
            // The client went away; nothing is left to answer.
        }
        catch (IOException ex)
        {
            // The log could not be written: the replies waiting in the pipe must never be sent.
            LogFailed(ex, connection.ConnectionId);
            connection.Abort(new ConnectionAbortedException("The metrics log is unavailable.", ex));
            return;
        }

        await input.CompleteAsync();
        await output.CompleteAsync();
    }

    private void Report(in BatchTally tally, long bytesReceived, long started)
    {
        _instruments.Requests(tally.Requests);
        _instruments.Errors("malformed", tally.Malformed);
        _instruments.Errors("line_too_long", tally.TooLong);
        _instruments.BytesReceived(bytesReceived);
        _instruments.BytesSent(tally.BytesSent);
        _instruments.Duration(started);
    }

    private Batch ProcessLines(ref MetricsRequestReader reader, ref ReadOnlySequence<byte> buffer, PipeWriter output, ref BatchTally tally)
    {
        long commitPosition = 0;
        while (true)
        {
            if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes)
            {
                tally.BytesSent += output.UnflushedBytes;
                return new Batch(commitPosition, BatchStop.OutputFull);
            }

            SequencePosition consumed = buffer.Start, examined = buffer.End;
            bool taken = reader.TryParseMessage(buffer, ref consumed, ref examined, out MetricsRequest request);
            buffer = buffer.Slice(consumed);
            if (!taken)
            {
                return new Batch(commitPosition, BatchStop.NeedMoreData);
            }

            tally.Requests++;
            if (Execute(request, output, ref commitPosition, ref tally))
            {
                return new Batch(commitPosition, BatchStop.GetAll);
            }
        }
    }

    /// <summary>Answers one request line; returns true for <c>get *</c>, which the caller streams.</summary>
    private bool Execute(in MetricsRequest request, PipeWriter output, ref long commitPosition, ref BatchTally tally)
    {
        if (request.Status != MessageStatus.Valid)
        {
            if (request.Status == MessageStatus.TooLarge)
            {
                tally.TooLong++;
            }
            else
            {
                tally.Malformed++;
            }

            MetricsResponseWriter.WriteError(output);
            return false;
        }

        switch (request.Command)
        {
            case MetricsCommand.Put:
                commitPosition = store.Put(request.Key, request.Timestamp, request.Value);
                MetricsResponseWriter.WriteStored(output);
                return false;
            case MetricsCommand.Get:
                MetricsResponseWriter.WriteGetStart(output);
                store.WritePoints(request.Key, output);
                MetricsResponseWriter.WriteGetEnd(output);
                return false;
            default:
                return true;
        }
    }

    private async ValueTask<bool> WriteAllPointsAsync(PipeWriter output)
    {
        MetricsResponseWriter.WriteGetStart(output);
        foreach (MetricSeries series in store.GetAllSeries())
        {
            MetricStore.WritePoints(series, output);
            if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes)
            {
                _instruments.BytesSent(output.UnflushedBytes);
                if ((await output.FlushAsync()).IsCompleted)
                {
                    return false;
                }
            }
        }

        MetricsResponseWriter.WriteGetEnd(output);
        return true;
    }

    private enum BatchStop
    {
        NeedMoreData,
        OutputFull,
        GetAll,
    }

    private readonly record struct Batch(long CommitPosition, BatchStop Stop);

    /// <summary>What one read's lines amounted to, reported to the instruments in one go.</summary>
    private struct BatchTally
    {
        public long Requests;
        public long Malformed;
        public long TooLong;
        public long BytesSent;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Metrics connection {ConnectionId} aborted: the log could not be written")]
    private partial void LogFailed(Exception exception, string connectionId);
}
