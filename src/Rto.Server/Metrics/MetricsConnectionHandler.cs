using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols;
using Rto.Protocols.Metrics;
using Rto.Server.Endpoints;

namespace Rto.Server.Metrics;

/// <summary>
/// Serves the metrics protocol on one connection: answers whatever lines have arrived, in order,
/// makes their puts durable with one log commit (shared with every connection committing at the
/// same time), and lets the loop flush all the replies. Large gets are streamed run by run under
/// the pipe's flow control.
/// </summary>
internal sealed class MetricsConnectionHandler(MetricStore store, IOptions<MetricsOptions> options, ServerInstruments instruments, ILogger<MetricsConnectionHandler> logger)
    : TcpConnectionHandler(instruments, EndpointNames.Metrics, logger)
{
    // Stop taking more requests from a batch once this much reply data waits to be flushed, so
    // a client pipelining large gets is held back by its own reading speed.
    private const int MaxPendingReplyBytes = 256 * 1024;

    private readonly int _maxLineLength = options.Value.MaxLineLength;

    protected override string StoreFailureReason => "The metrics log is unavailable.";

    protected override TcpSession CreateSession(ConnectionContext connection) => new Session(store, new MetricsRequestReader(_maxLineLength), Instruments);

    private sealed class Session(MetricStore store, MetricsRequestReader reader, ServerInstruments.EndpointInstruments instruments) : TcpSession(instruments)
    {
        private readonly SeriesRun _run = new();
        private MetricsRequestReader _reader = reader;
        private BatchTally _tally;

        // What ContinueAsync has to finish: a group commit still being written, then a get to stream.
        private ValueTask _pendingCommit;
        private bool _commitPending;
        private BatchStop _pendingStop;

        public override TcpStep Process(ref ReadOnlySequence<byte> buffer, PipeWriter output)
        {
            Batch batch = ProcessLines(ref buffer, output);
            if (batch.CommitPosition > 0)
            {
                ValueTask commit = store.CommitAsync(batch.CommitPosition);
                if (commit.IsCompletedSuccessfully)
                {
                    commit.GetAwaiter().GetResult();
                }
                else
                {
                    // Another connection's write is under way: this batch joins the next one.
                    _pendingCommit = commit;
                    _commitPending = true;
                    _pendingStop = batch.Stop;
                    return TcpStep.Await;
                }
            }

            return Next(batch.Stop);
        }

        public override async ValueTask<TcpStep> ContinueAsync(PipeWriter output, CancellationToken closing)
        {
            if (_commitPending)
            {
                _commitPending = false;
                ValueTask commit = _pendingCommit;
                _pendingCommit = default;
                await commit;
                TcpStep next = Next(_pendingStop);
                if (next != TcpStep.Await)
                {
                    return next;
                }
            }

            bool open = _pendingStop == BatchStop.GetAll ? await WriteAllPointsAsync(output) : await StreamSeriesAsync(output);
            return open ? TcpStep.Continue : TcpStep.Close;
        }

        public override void BatchCompleted()
        {
            Instruments.Requests(_tally.Requests);
            Instruments.Errors("malformed", _tally.Malformed);
            Instruments.Errors("line_too_long", _tally.TooLong);
            Instruments.Errors("max_memory", _tally.OverMemoryLimit);
            Instruments.Errors("retention", _tally.OutsideRetention);
            _tally = default;
        }

        private TcpStep Next(BatchStop stop)
        {
            _pendingStop = stop;
            return stop switch
            {
                BatchStop.GetAll or BatchStop.GetOne => TcpStep.Await,
                BatchStop.OutputFull => TcpStep.Flush,
                _ => TcpStep.NeedMoreData,
            };
        }

        private Batch ProcessLines(ref ReadOnlySequence<byte> buffer, PipeWriter output)
        {
            long commitPosition = 0;
            while (true)
            {
                if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes)
                {
                    return new Batch(commitPosition, BatchStop.OutputFull);
                }

                SequencePosition consumed = buffer.Start, examined = buffer.End;
                bool taken = _reader.TryParseMessage(buffer, ref consumed, ref examined, out MetricsRequest request);
                buffer = buffer.Slice(consumed);
                if (!taken)
                {
                    return new Batch(commitPosition, BatchStop.NeedMoreData);
                }

                _tally.Requests++;
                BatchStop stop = Execute(request, output, ref commitPosition);
                if (stop != BatchStop.NeedMoreData)
                {
                    return new Batch(commitPosition, stop);
                }
            }
        }

        /// <summary>Answers one request line; returns what the caller must stream (<c>get *</c>, a large get), else <see cref="BatchStop.NeedMoreData"/>.</summary>
        private BatchStop Execute(in MetricsRequest request, PipeWriter output, ref long commitPosition)
        {
            if (request.Status != MessageStatus.Valid)
            {
                if (request.Status == MessageStatus.TooLarge)
                {
                    _tally.TooLong++;
                }
                else
                {
                    _tally.Malformed++;
                }

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
                        _tally.OverMemoryLimit += status == PutStatus.OverMemoryLimit ? 1 : 0;
                        _tally.OutsideRetention += status == PutStatus.OutsideRetention ? 1 : 0;
                        output.Write(PutRefusal.Reply(status));
                    }

                    return BatchStop.NeedMoreData;
                case MetricsCommand.Get:
                    MetricsResponseWriter.WriteGetStart(output);
                    if (store.TryGetSeries(request.Key, out MetricSeries? series))
                    {
                        // The first run inline, so small gets stay in the batch; the rest is streamed.
                        _run.Start(series);
                        _run.WriteNext(output);
                        if (!_run.Done)
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
        private async ValueTask<bool> StreamSeriesAsync(PipeWriter output)
        {
            if (!await WriteRunsAsync(output))
            {
                return false;
            }

            MetricsResponseWriter.WriteGetEnd(output);
            return true;
        }

        private async ValueTask<bool> WriteAllPointsAsync(PipeWriter output)
        {
            MetricsResponseWriter.WriteGetStart(output);
            foreach (MetricSeries series in store.GetAllSeries())
            {
                _run.Start(series);
                if (!await WriteRunsAsync(output))
                {
                    return false;
                }
            }

            MetricsResponseWriter.WriteGetEnd(output);
            return true;
        }

        /// <summary>Writes the current series' remaining runs, flushing whenever the pending reply passes the limit; false once the client is gone.</summary>
        private async ValueTask<bool> WriteRunsAsync(PipeWriter output)
        {
            while (!_run.Done)
            {
                if (!await FlushIfFullAsync(output))
                {
                    return false;
                }

                _run.WriteNext(output);
            }

            return true;
        }

        /// <summary>Flushes once the pending reply passes the limit, so a slow reader holds at most that much here.</summary>
        private async ValueTask<bool> FlushIfFullAsync(PipeWriter output) =>
            !(output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes)
            || !(await TcpConnectionHandler.FlushAsync(output, Instruments)).IsCompleted;
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
    }
}
