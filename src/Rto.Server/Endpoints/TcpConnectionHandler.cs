using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Rto.Server.Endpoints;

/// <summary>
/// The read loop of every raw TCP protocol, written once: read what has arrived, hand it to the
/// connection's <see cref="TcpSession"/>, flush the replies once per batch, report the batch, and
/// end the connection the same way whatever ended it. A protocol derives from this class, says
/// which session serves a connection and, if it needs them, its limits and what a failed store means.
/// </summary>
/// <remarks>
/// The shape of SignalR's <c>HubConnectionHandler</c> (one loop owns the pipe, the protocol only
/// parses and dispatches) with garnet's batch granularity (a session consumes a whole read, so it
/// can commit once per batch). The steady state allocates nothing: the loop runs in this one async
/// method, whose state machine is allocated once per connection.
/// </remarks>
internal abstract partial class TcpConnectionHandler(ServerInstruments instruments, string endpoint, ILogger logger) : ConnectionHandler
{
    /// <summary>The instruments of this handler's endpoint.</summary>
    protected ServerInstruments.EndpointInstruments Instruments { get; } = instruments.For(endpoint);

    /// <summary>The handler's logger, with the category of the protocol's handler.</summary>
    protected ILogger Logger { get; } = logger;

    /// <summary>The limits every connection of this endpoint is held to.</summary>
    protected virtual TcpLimits Limits => TcpLimits.None;

    /// <summary>
    /// Why the connection is aborted when its store cannot write (an <see cref="IOException"/> out of
    /// the session); null for a protocol without a store, whose I/O errors are Kestrel's to log.
    /// </summary>
    protected virtual string? StoreFailureReason => null;

    /// <summary>The session that serves one new connection.</summary>
    protected abstract TcpSession CreateSession(ConnectionContext connection);

    /// <summary>Flushes <paramref name="output"/>, counting the bytes sent; skips the call when nothing is waiting.</summary>
    internal static ValueTask<FlushResult> FlushAsync(PipeWriter output, ServerInstruments.EndpointInstruments instruments)
    {
        if (output.CanGetUnflushedBytes)
        {
            if (output.UnflushedBytes == 0)
            {
                return default;
            }

            instruments.BytesSent(output.UnflushedBytes);
        }

        return output.FlushAsync();
    }

    public sealed override async Task OnConnectedAsync(ConnectionContext connection)
    {
        PipeReader input = connection.Transport.Input;
        PipeWriter output = connection.Transport.Output;
        CancellationToken closing = connection.Features.Get<IConnectionLifetimeNotificationFeature>()?.ConnectionClosedRequested ?? default;
        TimeSpan idleTimeout = Limits.IdleTimeout;
        CancellationTokenSource? idle = idleTimeout == Timeout.InfiniteTimeSpan ? null : CancellationTokenSource.CreateLinkedTokenSource(closing);
        TcpSession session = CreateSession(connection);
        try
        {
            while (true)
            {
                ReadResult result;
                try
                {
                    idle?.CancelAfter(idleTimeout);
                    result = await input.ReadAsync(idle?.Token ?? closing);
                }
                catch (OperationCanceledException) when (closing.IsCancellationRequested)
                {
                    // The server is stopping (e.g. SIGTERM): everything read has been answered.
                    break;
                }
                catch (OperationCanceledException) when (idle?.IsCancellationRequested == true)
                {
                    Instruments.Errors("idle_timeout");
                    LogIdle(Logger, Instruments.Name, connection.ConnectionId, idleTimeout.TotalSeconds);
                    break;
                }

                if (idle is not null && !idle.TryReset())
                {
                    // The timer fired just as the bytes arrived: the next read gets a fresh one.
                    idle.Dispose();
                    idle = CancellationTokenSource.CreateLinkedTokenSource(closing);
                }

                long started = Instruments.MeasuresDuration ? Stopwatch.GetTimestamp() : 0;
                ReadOnlySequence<byte> buffer = result.Buffer;
                bool outputOpen = true, replied = false;
                TcpStep step = session.Process(ref buffer, output);
                while (step is not (TcpStep.NeedMoreData or TcpStep.Close))
                {
                    if (step is TcpStep.Flush or TcpStep.Reply)
                    {
                        outputOpen = !(await FlushAsync(output, Instruments)).IsCompleted;
                        if (step == TcpStep.Reply)
                        {
                            Instruments.Duration(started);
                            started = Instruments.MeasuresDuration ? Stopwatch.GetTimestamp() : 0;
                            replied = true;
                        }

                        if (!outputOpen)
                        {
                            break;
                        }
                    }

                    step = step == TcpStep.Await ? await session.ContinueAsync(output, closing) : session.Process(ref buffer, output);
                }

                long consumed = result.Buffer.Length - buffer.Length;
                input.AdvanceTo(buffer.Start, result.Buffer.End);
                outputOpen = outputOpen && !(await FlushAsync(output, Instruments)).IsCompleted;
                Instruments.BytesReceived(consumed);
                session.BatchCompleted();

                // One duration per batch that held a request, or one per reply for a protocol that replies request by request.
                if (!replied && consumed > 0)
                {
                    Instruments.Duration(started);
                }

                if (!outputOpen || step == TcpStep.Close || result.IsCompleted)
                {
                    break;
                }
            }
        }
        catch (ConnectionResetException)
        {
            // The peer went away; nothing is left to answer.
        }
        catch (IOException ex) when (StoreFailureReason is { } reason)
        {
            // The store could not write: replies waiting in the pipe would acknowledge what it does
            // not hold, so they must never be sent — abort instead of completing the output.
            LogAborted(Logger, ex, Instruments.Name, connection.ConnectionId, reason);
            connection.Abort(new ConnectionAbortedException(reason, ex));
            return;
        }
        finally
        {
            idle?.Dispose();
            session.Closed();
        }

        await input.CompleteAsync();
        await output.CompleteAsync();
    }

    [LoggerMessage(Level = LogLevel.Debug, Message = "{Endpoint} connection {ConnectionId} closed: nothing received for {IdleSeconds} s")]
    private static partial void LogIdle(ILogger logger, string endpoint, string connectionId, double idleSeconds);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Endpoint} connection {ConnectionId} aborted: {Reason}")]
    private static partial void LogAborted(ILogger logger, Exception exception, string endpoint, string connectionId, string reason);
}
