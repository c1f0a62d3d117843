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
/// makes their puts durable with one log commit, and lets the loop flush all the replies.
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
        private MetricsRequestReader _reader = reader;
        private BatchTally _tally;

        public override TcpStep Process(ref ReadOnlySequence<byte> buffer, PipeWriter output)
        {
            Batch batch = ProcessLines(ref buffer, output);
            if (batch.CommitPosition > 0)
            {
                store.Commit(batch.CommitPosition);
            }

            return batch.Stop switch
            {
                BatchStop.GetAll => TcpStep.Await,
                BatchStop.OutputFull => TcpStep.Flush,
                _ => TcpStep.NeedMoreData,
            };
        }

        public override async ValueTask<TcpStep> ContinueAsync(PipeWriter output, CancellationToken closing) =>
            await WriteAllPointsAsync(output) ? TcpStep.Continue : TcpStep.Close;

        public override void BatchCompleted()
        {
            Instruments.Requests(_tally.Requests);
            Instruments.Errors("malformed", _tally.Malformed);
            Instruments.Errors("line_too_long", _tally.TooLong);
            _tally = default;
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
                if (Execute(request, output, ref commitPosition))
                {
                    return new Batch(commitPosition, BatchStop.GetAll);
                }
            }
        }

        /// <summary>Answers one request line; returns true for <c>get *</c>, which the caller streams.</summary>
        private bool Execute(in MetricsRequest request, PipeWriter output, ref long commitPosition)
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
                if (output.CanGetUnflushedBytes && output.UnflushedBytes > MaxPendingReplyBytes
                    && (await TcpConnectionHandler.FlushAsync(output, Instruments)).IsCompleted)
                {
                    return false;
                }
            }

            MetricsResponseWriter.WriteGetEnd(output);
            return true;
        }
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
    }
}
