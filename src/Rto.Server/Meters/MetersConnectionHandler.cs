using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.Extensions.Options;
using Rto.Protocols;
using Rto.Server.Hosting;
using Rto.Protocols.Meters;

namespace Rto.Server.Meters;

/// <summary>
/// Takes meter readings on one connection: validates each line, stores the valid ones and
/// appends them to the log once per received batch. Never answers; a bad line never closes the
/// connection.
/// </summary>
internal sealed partial class MetersConnectionHandler(
    MeterStore store, MeterRegistry registry, MeterCounters counters, IOptions<MetersOptions> options, ServerInstruments instruments, ILogger<MetersConnectionHandler> logger)
    : ConnectionHandler
{
    private readonly ServerInstruments.EndpointInstruments _instruments = instruments.For(MetersHosting.EndpointName);
    private static long s_lastRejectLog = long.MinValue;
    private static long s_suppressed;
    private readonly int _maxLineLength = options.Value.MaxLineLength;

    public override async Task OnConnectedAsync(ConnectionContext connection)
    {
        PipeReader input = connection.Transport.Input;
        CancellationToken closing = connection.CloseRequested();
        var reader = new MeterLineReader(_maxLineLength);
        var batch = new Batch(new ArrayBufferWriter<byte>(16 * 1024));
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
                ProcessLines(ref reader, ref buffer, ref batch, connection.RemoteEndPoint);
                Commit(ref batch);
                _instruments.BytesReceived(result.Buffer.Length - buffer.Length);
                _instruments.Duration(started);
                input.AdvanceTo(buffer.Start, result.Buffer.End);
                if (result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
            // The meter went away.
        }
        catch (IOException ex)
        {
            LogFailed(ex, connection.ConnectionId);
            connection.Abort(new ConnectionAbortedException("The readings log is unavailable.", ex));
            return;
        }

        await input.CompleteAsync();
        await connection.Transport.Output.CompleteAsync();
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
        MeterReading reading = line.Reading;
        MeterRejectReason? reason = line.Status == MessageStatus.Valid ? Validate(reading, registry) : MeterRejectReason.Malformed;
        if (reason is null)
        {
            store.Add(reading);
            MeterLineWriter.Write(batch.Log, reading);
            batch.Accepted++;
            return;
        }

        switch (reason.Value)
        {
            case MeterRejectReason.Malformed:
                batch.Malformed++;
                break;
            case MeterRejectReason.UnknownMeter:
                batch.UnknownMeter++;
                break;
            default:
                batch.OutOfRange++;
                break;
        }

        LogReject(reason.Value, remote, line.Text);
    }

    /// <summary>Checks a parsed reading against the registry; null when it is valid.</summary>
    internal static MeterRejectReason? Validate(in MeterReading reading, MeterRegistry registry)
    {
        if (!registry.TryGet(reading.Ip, out MeterDefinition meter))
        {
            return MeterRejectReason.UnknownMeter;
        }

        return meter.InRange(reading.Value) ? null : MeterRejectReason.OutOfRange;
    }

    private void Commit(ref Batch batch)
    {
        if (batch.Log.WrittenCount > 0)
        {
            store.AppendLog(batch.Log.WrittenSpan);
            batch.Log.ResetWrittenCount();
        }

        counters.Add(batch.Accepted, batch.Malformed, batch.UnknownMeter, batch.OutOfRange);
        _instruments.Requests(batch.Accepted + batch.Malformed + batch.UnknownMeter + batch.OutOfRange);
        _instruments.Errors("malformed", batch.Malformed);
        _instruments.Errors("unknown_meter", batch.UnknownMeter);
        _instruments.Errors("out_of_range", batch.OutOfRange);
        batch.Accepted = batch.Malformed = batch.UnknownMeter = batch.OutOfRange = 0;
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

        if (logger.IsEnabled(LogLevel.Warning))
        {
            LogRejected(reason, remote, System.Text.Encoding.UTF8.GetString(line), Interlocked.Exchange(ref s_suppressed, 0));
        }
    }

    private struct Batch(ArrayBufferWriter<byte> log)
    {
        public readonly ArrayBufferWriter<byte> Log = log;
        public long Accepted;
        public long Malformed;
        public long UnknownMeter;
        public long OutOfRange;
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Meter reading rejected ({Reason}) from {RemoteEndPoint}: '{Line}' ({Suppressed} more rejections not logged)")]
    private partial void LogRejected(MeterRejectReason reason, System.Net.EndPoint? remoteEndPoint, string line, long suppressed);

    [LoggerMessage(Level = LogLevel.Error, Message = "Meters connection {ConnectionId} aborted: the readings log could not be written")]
    private partial void LogFailed(Exception exception, string connectionId);
}
