using System.Buffers;
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
internal sealed partial class MetricsConnectionHandler(MetricStore store, IOptions<MetricsOptions> options, ILogger<MetricsConnectionHandler> logger)
    : ConnectionHandler
{
    // Stop taking more requests from a batch once this much reply data waits to be flushed, so
    // a client pipelining large gets is held back by its own reading speed.
    private const int MaxPendingReplyBytes = 256 * 1024;

    private readonly int _maxLineLength = options.Value.MaxLineLength;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        PipeReader input = connection.Transport.Input;
        PipeWriter output = connection.Transport.Output;
        CancellationToken closing = connection.CloseRequested();
        var framer = new LineFramer(_maxLineLength);
        ConnectionLifetime.LogOpened(logger, "metrics", connection.ConnectionId, connection.RemoteEndPoint);
        try
        {
            while (true)
            {
                if (await input.ReadUnlessClosingAsync(closing) is not ReadResult result)
                {
                    break;
                }

                ReadOnlySequence<byte> buffer = result.Buffer;
                bool outputOpen = true;
                while (outputOpen)
                {
                    Batch batch = ProcessLines(ref framer, ref buffer, output);
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
                if (!outputOpen || (await output.FlushAsync()).IsCompleted || result.IsCompleted)
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
        ConnectionLifetime.LogClosed(logger, "metrics", connection.ConnectionId, connection.RemoteEndPoint);
    }

    private Batch ProcessLines(ref LineFramer framer, ref ReadOnlySequence<byte> buffer, PipeWriter output)
    {
        long commitPosition = 0;
        while (true)
        {
            if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes)
            {
                return new Batch(commitPosition, BatchStop.OutputFull);
            }

            LineReadStatus status = framer.TryReadLine(ref buffer, out ReadOnlySequence<byte> line);
            if (status == LineReadStatus.NeedMoreData)
            {
                return new Batch(commitPosition, BatchStop.NeedMoreData);
            }

            if (status == LineReadStatus.LineTooLong)
            {
                MetricsResponseWriter.WriteError(output);
                continue;
            }

            if (ExecuteLine(line, output, ref commitPosition))
            {
                return new Batch(commitPosition, BatchStop.GetAll);
            }
        }
    }

    /// <summary>Answers one line; returns true for <c>get *</c>, which the caller streams.</summary>
    private bool ExecuteLine(in ReadOnlySequence<byte> line, PipeWriter output, ref long commitPosition)
    {
        if (line.IsSingleSegment)
        {
            return Execute(line.FirstSpan, output, ref commitPosition);
        }

        // A line split across buffer segments is copied once; lines are bounded by MaxLineLength.
        int length = (int)line.Length;
        byte[]? rented = null;
        Span<byte> copy = length <= 512 ? stackalloc byte[length] : (rented = ArrayPool<byte>.Shared.Rent(length)).AsSpan(0, length);
        try
        {
            line.CopyTo(copy);
            return Execute(copy, output, ref commitPosition);
        }
        finally
        {
            if (rented is not null)
            {
                ArrayPool<byte>.Shared.Return(rented);
            }
        }
    }

    private bool Execute(ReadOnlySpan<byte> line, PipeWriter output, ref long commitPosition)
    {
        if (!MetricsRequestParser.TryParse(line, out MetricsRequest request))
        {
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
            if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes && (await output.FlushAsync()).IsCompleted)
            {
                return false;
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

    [LoggerMessage(Level = LogLevel.Error, Message = "Metrics connection {ConnectionId} aborted: the log could not be written")]
    private partial void LogFailed(Exception exception, string connectionId);
}
