using System.Buffers;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols;
using Rto.Protocols.Meters;
using Rto.Server.Endpoints;

namespace Rto.Server.Meters;

/// <summary>
/// Takes meter readings on one connection: validates each line, stores the valid ones and
/// appends them to the log once per received batch. Never answers; a bad line never closes the
/// connection. In a cluster (<paramref name="replication"/> set) the batch is published to the
/// readings stream instead, and every node's windows get it from there; the next batch is read
/// once JetStream stored this one.
/// </summary>
internal sealed partial class MetersConnectionHandler(
    MeterStore store, MeterRegistry registry, MeterCounters counters, IOptions<MetersOptions> options, ServerInstruments instruments, ILogger<MetersConnectionHandler> logger,
    MetersReplication? replication = null)
    : TcpConnectionHandler(instruments, EndpointNames.Meters, logger)
{
    private static long s_lastRejectLog = long.MinValue;
    private static long s_suppressed;
    private readonly int _maxLineLength = options.Value.MaxLineLength;
    private readonly MetersReplication? _replication = replication;

    protected override string StoreFailureReason => _replication is null
        ? "The readings log is unavailable."
        : "JetStream did not store (or did not confirm) the batch's readings; they are not counted.";

    protected override TcpSession CreateSession(ConnectionContext connection) =>
        new Session(this, new Batch(new ArrayBufferWriter<byte>(16 * 1024)), connection.RemoteEndPoint);

    /// <summary>One connection: its line reader and the batch being gathered; the rest is the handler's.</summary>
    private sealed class Session(MetersConnectionHandler handler, Batch batch, System.Net.EndPoint? remote) : TcpSession(handler.Instruments)
    {
        private MeterLineReader _reader = new(handler._maxLineLength);
        private Batch _batch = batch;

        public override TcpStep Process(ref ReadOnlySequence<byte> buffer, PipeWriter output)
        {
            handler.ProcessLines(ref _reader, ref buffer, ref _batch, remote);
            if (handler._replication is not null && _batch.Log.WrittenCount > 0)
            {
                return TcpStep.Await;
            }

            handler.Commit(ref _batch);
            return TcpStep.NeedMoreData;
        }

        public override async ValueTask<TcpStep> ContinueAsync(PipeWriter output, CancellationToken closing)
        {
            // An IOException (not stored, or not confirmed) closes the connection; the batch is not counted.
            await handler._replication!.PublishAsync(_batch.Log.WrittenMemory);
            _batch.Log.ResetWrittenCount();
            handler.Commit(ref _batch);
            return TcpStep.NeedMoreData;
        }
    }

    private void ProcessLines(ref MeterLineReader reader, ref ReadOnlySequence<byte> buffer, ref Batch batch, System.Net.EndPoint? remote)
    {
        while (true)
        {
            SequencePosition consumed = buffer.Start, examined = buffer.End;
            bool taken = reader.TryParseMessage(buffer, ref consumed, ref examined, out MeterLine line);
            buffer = buffer.Slice(consumed);
            if (!taken)
            {
                return;
            }

            Handle(line, ref batch, remote);
        }
    }

    private void Handle(in MeterLine line, ref Batch batch, System.Net.EndPoint? remote)
    {
        MeterRejectReason? reason = MeterRejectReason.Malformed;
        if (line.Status == MessageStatus.Valid)
        {
            reason = Validate(line.Meter, line.Value, registry, out MeterDefinition meter);
            if (reason is null)
            {
                if (_replication is null)
                {
                    // In a cluster every node, this one too, adds it when it comes back from the stream.
                    store.Add(meter.Meter, line.Timestamp, line.Value);
                }

                MeterLineWriter.Write(batch.Log, line.Meter, line.Timestamp, line.Value);
                batch.Accepted++;
                return;
            }
        }

        switch (reason.Value)
        {
            case MeterRejectReason.Malformed:
                batch.Malformed++;
                break;
            case MeterRejectReason.UnknownMeter:
                batch.UnknownMeter++;
                break;
            case MeterRejectReason.NotFinite:
                batch.NotFinite++;
                break;
            default:
                batch.OutOfRange++;
                break;
        }

        LogReject(reason.Value, remote, line.Text);
    }

    /// <summary>
    /// Checks a parsed reading against the registry, in the original's order (the meter, then
    /// the value); null when it is valid. NaN and infinities, which the original could only reject
    /// as out of range, have a reason of their own.
    /// </summary>
    internal static MeterRejectReason? Validate(ReadOnlySpan<byte> meterName, double value, MeterRegistry registry, out MeterDefinition meter)
    {
        if (!registry.TryGet(meterName, out meter))
        {
            return MeterRejectReason.UnknownMeter;
        }

        if (!double.IsFinite(value))
        {
            return MeterRejectReason.NotFinite;
        }

        return meter.InRange(value) ? null : MeterRejectReason.OutOfRange;
    }

    private void Commit(ref Batch batch)
    {
        if (batch.Log.WrittenCount > 0)
        {
            store.AppendLog(batch.Log.WrittenSpan);
            batch.Log.ResetWrittenCount();
        }

        counters.Add(batch.Accepted, batch.Malformed, batch.UnknownMeter, batch.OutOfRange, batch.NotFinite);
        Instruments.Requests(batch.Accepted + batch.Malformed + batch.UnknownMeter + batch.OutOfRange + batch.NotFinite);
        Instruments.Errors("malformed", batch.Malformed);
        Instruments.Errors("unknown_meter", batch.UnknownMeter);
        Instruments.Errors("out_of_range", batch.OutOfRange);
        Instruments.Errors("not_finite", batch.NotFinite);
        batch.Accepted = batch.Malformed = batch.UnknownMeter = batch.OutOfRange = batch.NotFinite = 0;
    }

    /// <summary>Logs at most one rejected line per second, with how many were not logged since.</summary>
    private void LogReject(MeterRejectReason reason, System.Net.EndPoint? remote, ReadOnlySpan<byte> line)
    {
        long now = Environment.TickCount64;
        long last = Volatile.Read(ref s_lastRejectLog);
        if (now - last < 1000 || Interlocked.CompareExchange(ref s_lastRejectLog, now, last) != last)
        {
            Interlocked.Increment(ref s_suppressed);
            return;
        }

        if (Logger.IsEnabled(LogLevel.Warning))
        {
            LogRejected(Logger, reason, remote, System.Text.Encoding.UTF8.GetString(line), Interlocked.Exchange(ref s_suppressed, 0));
        }
    }

    private struct Batch(ArrayBufferWriter<byte> log)
    {
        public readonly ArrayBufferWriter<byte> Log = log;
        public long Accepted;
        public long Malformed;
        public long UnknownMeter;
        public long OutOfRange;
        public long NotFinite;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter reading rejected ({Reason}) from {RemoteEndPoint}: '{Line}' ({Suppressed} more rejections not logged)")]
    private static partial void LogRejected(ILogger logger, MeterRejectReason reason, System.Net.EndPoint? remoteEndPoint, string line, long suppressed);
}
