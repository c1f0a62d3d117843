using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols;
using Rto.Protocols.Metrics;
using Rto.Server.Cluster;
using Rto.Server.Endpoints;

namespace Rto.Server.Metrics;

/// <summary>
/// Serves the metrics protocol on one connection: answers whatever lines have arrived, in order,
/// makes their puts durable with one log commit (shared with every connection committing at the
/// same time), and lets the loop flush all the replies. Large gets are streamed run by run under
/// the pipe's flow control. In a cluster (<paramref name="replication"/> set) the batch's puts are
/// published as one stream message instead, acknowledged once JetStream stored it, and a get
/// first waits until this node applied what the connection wrote (read-your-writes).
/// </summary>
internal sealed class MetricsConnectionHandler(
    MetricStore store, IOptions<MetricsOptions> options, ServerInstruments instruments, ILogger<MetricsConnectionHandler> logger, MetricsReplication? replication = null)
    : TcpConnectionHandler(instruments, EndpointNames.Metrics, logger)
{
    // Stop taking more requests from a batch once this much reply data waits to be flushed, so
    // a client pipelining large gets is held back by its own reading speed.
    private const int MaxPendingReplyBytes = 256 * 1024;

    private readonly int _maxLineLength = options.Value.MaxLineLength;

    protected override string StoreFailureReason => replication is null
        ? "The metrics log is unavailable."
        : "JetStream did not store (or did not confirm) the batch's puts; their replies are not sent.";

    protected override TcpSession CreateSession(ConnectionContext connection) => new Session(store, new MetricsRequestReader(_maxLineLength), Instruments, replication);

    private sealed class Session(MetricStore store, MetricsRequestReader reader, ServerInstruments.EndpointInstruments instruments, MetricsReplication? cluster) : TcpSession(instruments)
    {
        private readonly SeriesRun _run = new();

        // Cluster mode: the batch's puts not yet published, the highest stream sequence this
        // connection got acknowledged, and a get that must wait for the stream before it answers.
        private readonly MetricsPutBatch? _puts = cluster is null ? null : new MetricsPutBatch();
        private ulong _acked;
        private bool _syncPending;
        private bool _deferredAll;
        private byte[] _deferredKey = [];
        private MetricsRequestReader _reader = reader;
        private BatchTally _tally;

        // What ContinueAsync has to finish: a group commit still being written, then a get to stream.
        private ValueTask _pendingCommit;
        private bool _commitPending;
        private BatchStop _pendingStop;

        public override TcpStep Process(ref ReadOnlySequence<byte> buffer, PipeWriter output)
        {
            Batch batch = ProcessLines(ref buffer, output);
            if (cluster is not null && (_puts!.Count > 0 || batch.Stop == BatchStop.ClusterGet))
            {
                // Nothing is flushed before the puts are acknowledged: their ok replies wait in the pipe.
                _syncPending = true;
                _pendingStop = batch.Stop;
                return TcpStep.Await;
            }

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
            if (_syncPending)
            {
                _syncPending = false;
                if (_puts!.Count > 0)
                {
                    // An IOException (not stored, or not confirmed) closes the connection without these replies.
                    _acked = Math.Max(_acked, await cluster!.PublishAsync(_puts, CancellationToken.None));
                    _puts.Clear();
                }

                if (_pendingStop == BatchStop.ClusterGet)
                {
                    return await WriteClusterGetAsync(output, closing) ? TcpStep.Continue : TcpStep.Close;
                }

                return Next(_pendingStop);
            }

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
            Instruments.Errors("cluster_unavailable", _tally.ClusterUnavailable);
            Instruments.Errors("cluster_read_timeout", _tally.ClusterReadTimeout);
            _tally = default;
        }

        private TcpStep Next(BatchStop stop)
        {
            _pendingStop = stop;
            return stop switch
            {
                BatchStop.GetAll or BatchStop.GetOne => TcpStep.Await,
                BatchStop.OutputFull => TcpStep.Flush,
                BatchStop.Publish => TcpStep.Continue,
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

                MetricsResponseWriter.WriteError(output, request.ErrorMessage);
                return BatchStop.NeedMoreData;
            }

            if (cluster is not null)
            {
                return ExecuteReplicated(request, output);
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

        /// <summary>
        /// A request in a cluster: a put is checked against this node's copy, added to the batch's
        /// message and answered <c>ok</c> in the pipe (sent only once the message is acknowledged);
        /// a get answers at once when this node already applied what it must show, else it waits.
        /// </summary>
        private BatchStop ExecuteReplicated(in MetricsRequest request, PipeWriter output)
        {
            if (request.Command == MetricsCommand.Put)
            {
                if (_puts!.Count == 0 && !cluster!.Availability.IsAvailable)
                {
                    _tally.ClusterUnavailable++;
                    output.Write(cluster.UnavailableReply());
                    return BatchStop.NeedMoreData;
                }

                PutStatus status = store.Admit(request.Key, request.Timestamp);
                if (status != PutStatus.Stored)
                {
                    _tally.OverMemoryLimit += status == PutStatus.OverMemoryLimit ? 1 : 0;
                    _tally.OutsideRetention += status == PutStatus.OutsideRetention ? 1 : 0;
                    output.Write(PutRefusal.Reply(status));
                    return BatchStop.NeedMoreData;
                }

                _puts.Add(request.Key, request.Timestamp, request.Value);
                MetricsResponseWriter.WriteStored(output);
                return _puts.Length >= MetricsReplication.MaxBatchBytes ? BatchStop.Publish : BatchStop.NeedMoreData;
            }

            if (_puts!.Count == 0 && !cluster!.ReadsLatest && cluster.HasApplied(_acked))
            {
                // Everything this connection wrote is applied here: answer as a single node does.
                if (request.Command == MetricsCommand.GetAll)
                {
                    return BatchStop.GetAll;
                }

                MetricsResponseWriter.WriteGetStart(output);
                if (store.TryGetSeries(request.Key, out MetricSeries? series))
                {
                    _run.Start(series);
                    _run.WriteNext(output);
                    if (!_run.Done)
                    {
                        return BatchStop.GetOne;
                    }
                }

                MetricsResponseWriter.WriteGetEnd(output);
                return BatchStop.NeedMoreData;
            }

            // The key's bytes live only as long as the batch; the wait may outlast a copy-free path.
            _deferredAll = request.Command == MetricsCommand.GetAll;
            _deferredKey = _deferredAll ? [] : request.Key.ToArray();
            return BatchStop.ClusterGet;
        }

        /// <summary>A get that waited: once this node applied the connection's last acknowledged sequence, answered as usual; else a clear error.</summary>
        private async ValueTask<bool> WriteClusterGetAsync(PipeWriter output, CancellationToken closing)
        {
            try
            {
                ulong needed = _acked;
                if (cluster!.ReadsLatest)
                {
                    needed = Math.Max(needed, await cluster.LastSequenceAsync(closing));
                }

                if (!cluster.HasApplied(needed) && !await cluster.WaitForAsync(needed, closing))
                {
                    _tally.ClusterReadTimeout++;
                    output.Write(cluster.ReadTimeoutReply(needed));
                    return true;
                }
            }
            catch (ClusterUnavailableException ex)
            {
                _tally.ClusterUnavailable++;
                output.Write(System.Text.Encoding.UTF8.GetBytes($"error\n{ex.Message.ReplaceLineEndings(" ")}\n\n"));
                return true;
            }
            catch (OperationCanceledException)
            {
                return false;
            }

            if (_deferredAll)
            {
                return await WriteAllPointsAsync(output);
            }

            MetricsResponseWriter.WriteGetStart(output);
            if (store.TryGetSeries(_deferredKey, out MetricSeries? series))
            {
                _run.Start(series);
                return await StreamSeriesAsync(output);
            }

            MetricsResponseWriter.WriteGetEnd(output);
            return true;
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

        /// <summary>Cluster mode: the batch's puts reached the size of one message; publish them, then go on.</summary>
        Publish,

        /// <summary>Cluster mode: a get must wait for the stream (the connection's puts published and applied here).</summary>
        ClusterGet,
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
        public long ClusterUnavailable;
        public long ClusterReadTimeout;
    }
}
