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
/// them in order, makes their puts durable with one log commit (shared with every connection
/// committing at the same time), then flushes all the replies. Large gets are streamed run by
/// run under the pipe's flow control.
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
        var framer = new LineFramer(_maxLineLength);
        var run = new SeriesRun();
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
                    Batch batch = ProcessLines(ref framer, ref buffer, output, run, ref tally);
                    if (batch.CommitPosition > 0)
                    {
                        await store.CommitAsync(batch.CommitPosition);
                    }

                    if (batch.Stop == BatchStop.GetAll)
                    {
                        outputOpen = await WriteAllPointsAsync(output, run);
                    }
                    else if (batch.Stop == BatchStop.GetOne)
                    {
                        outputOpen = await StreamSeriesAsync(output, run);
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
        _instruments.Errors("max_memory", tally.OverMemoryLimit);
        _instruments.Errors("retention", tally.OutsideRetention);
        _instruments.BytesReceived(bytesReceived);
        _instruments.BytesSent(tally.BytesSent);
        _instruments.Duration(started);
    }

    private Batch ProcessLines(ref LineFramer framer, ref ReadOnlySequence<byte> buffer, PipeWriter output, SeriesRun run, ref BatchTally tally)
    {
        long commitPosition = 0;
        while (true)
        {
            if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes)
            {
                tally.BytesSent += output.UnflushedBytes;
                return new Batch(commitPosition, BatchStop.OutputFull);
            }

            LineReadStatus status = framer.TryReadLine(ref buffer, out ReadOnlySequence<byte> line);
            if (status == LineReadStatus.NeedMoreData)
            {
                return new Batch(commitPosition, BatchStop.NeedMoreData);
            }

            tally.Requests++;
            if (status == LineReadStatus.LineTooLong)
            {
                tally.TooLong++;
                MetricsResponseWriter.WriteError(output);
                continue;
            }

            BatchStop stop = ExecuteLine(line, output, run, ref commitPosition, ref tally);
            if (stop != BatchStop.NeedMoreData)
            {
                return new Batch(commitPosition, stop);
            }
        }
    }

    /// <summary>Answers one line; returns what the caller must stream (<c>get *</c>, a large get), else <see cref="BatchStop.NeedMoreData"/>.</summary>
    private BatchStop ExecuteLine(in ReadOnlySequence<byte> line, PipeWriter output, SeriesRun run, ref long commitPosition, ref BatchTally tally)
    {
        if (line.IsSingleSegment)
        {
            return Execute(line.FirstSpan, output, run, ref commitPosition, ref tally);
        }

        // A line split across buffer segments is copied once; lines are bounded by MaxLineLength.
        int length = (int)line.Length;
        byte[]? rented = null;
        Span<byte> copy = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            line.CopyTo(copy);
            return Execute(copy, output, run, ref commitPosition, ref tally);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private BatchStop Execute(ReadOnlySpan<byte> line, PipeWriter output, SeriesRun run, ref long commitPosition, ref BatchTally tally)
    {
        if (!MetricsRequestParser.TryParse(line, out MetricsRequest request))
        {
            tally.Malformed++;
            MetricsResponseWriter.WriteError(output);
            return BatchStop.NeedMoreData;
        }

        switch (request.Command)
        {
            case MetricsCommand.Put:
                PutStatus status = store.Put(request.Key, request.Timestamp, request.Value, out long position);
                if (status == PutStatus.Stored)
                {
                    commitPosition = position;
                    MetricsResponseWriter.WriteStored(output);
                }
                else
                {
                    tally.OverMemoryLimit += status == PutStatus.OverMemoryLimit ? 1 : 0;
                    tally.OutsideRetention += status == PutStatus.OutsideRetention ? 1 : 0;
                    output.Write(PutRefusal.Reply(status));
                }

                return BatchStop.NeedMoreData;
            case MetricsCommand.Get:
                MetricsResponseWriter.WriteGetStart(output);
                if (store.TryGetSeries(request.Key, out MetricSeries? series))
                {
                    // The first run inline, so small gets stay in the batch; the rest is streamed.
                    run.Start(series);
                    run.WriteNext(output);
                    if (!run.Done)
                    {
                        return BatchStop.GetOne;
                    }
                }

                MetricsResponseWriter.WriteGetEnd(output);
                return BatchStop.NeedMoreData;
            default:
                return BatchStop.GetAll;
        }
    }

    /// <summary>The rest of a get begun by <see cref="Execute"/>: one bounded run at a time, flushed under flow control.</summary>
    private async ValueTask<bool> StreamSeriesAsync(PipeWriter output, SeriesRun run)
    {
        while (!run.Done)
        {
            if (!await FlushIfFullAsync(output))
            {
                return false;
            }

            run.WriteNext(output);
        }

        MetricsResponseWriter.WriteGetEnd(output);
        return true;
    }

    private async ValueTask<bool> WriteAllPointsAsync(PipeWriter output, SeriesRun run)
    {
        MetricsResponseWriter.WriteGetStart(output);
        foreach (MetricSeries series in store.GetAllSeries())
        {
            run.Start(series);
            while (!run.Done)
            {
                if (!await FlushIfFullAsync(output))
                {
                    return false;
                }

                run.WriteNext(output);
            }
        }

        MetricsResponseWriter.WriteGetEnd(output);
        return true;
    }

    /// <summary>Flushes once the pending reply passes the limit, so a slow reader holds at most that much here.</summary>
    private async ValueTask<bool> FlushIfFullAsync(PipeWriter output)
    {
        if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes)
        {
            _instruments.BytesSent(output.UnflushedBytes);
            return !(await output.FlushAsync()).IsCompleted;
        }

        return true;
    }

    private enum BatchStop
    {
        NeedMoreData,
        OutputFull,
        GetAll,
        GetOne,
    }

    private readonly record struct Batch(long CommitPosition, BatchStop Stop);

    /// <summary>What one read's lines amounted to, reported to the instruments in one go.</summary>
    private struct BatchTally
    {
        public long Requests;
        public long Malformed;
        public long TooLong;
        public long OverMemoryLimit;
        public long OutsideRetention;
        public long BytesSent;
    }

    [LoggerMessage(Level = LogLevel.Error, Message = "Metrics connection {ConnectionId} aborted: the log could not be written")]
    private partial void LogFailed(Exception exception, string connectionId);
}
