using System.Buffers;
using System.Diagnostics;
using System.IO.Pipelines;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Connections.Features;

namespace Rto.Server.Endpoints;

/// <summary>
/// The read loop of every raw TCP protocol, written once: read what has arrived, hand it to the
/// connection's <see cref="TcpSession"/>, flush the replies once per batch, report the batch, and
/// end the connection the same way whatever ended it. The connection's time limits are enforced
/// here, once for every protocol: a read waits at most the idle timeout for a new frame's first
/// byte, and the reads of one frame at most the frame timeout together. A protocol derives from
/// this class, says which session serves a connection and, if it has a store, what its failure means.
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

    // One handler serves one endpoint, so each throttle counts that endpoint's connections.
    private readonly LogThrottle _idleLog = new();
    private readonly LogThrottle _frameLog = new();

    /// <summary>The time limits every connection of this endpoint is held to; the kernel sets them from the capability's options when it listens.</summary>
    internal TcpLimits Limits { get; set; } = TcpLimits.None;

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
        TcpLimits limits = Limits;
        CancellationTokenSource? timer = limits.Any ? CancellationTokenSource.CreateLinkedTokenSource(closing) : null;
        TcpSession session = CreateSession(connection);

        // A frame is under way while the session leaves bytes it could not use yet; its clock counts
        // only the time spent waiting for more of them (not the time the server spends answering).
        bool inFrame = false;
        TimeSpan frameWaited = TimeSpan.Zero;
        try
        {
            while (true)
            {
                ReadResult result;
                bool frameBound = false;
                long waitStarted = 0;
                try
                {
                    if (timer is not null)
                    {
                        TimeSpan wait = limits.IdleTimeout;
                        if (inFrame && limits.FrameTimeout != Timeout.InfiniteTimeSpan)
                        {
                            TimeSpan left = limits.FrameTimeout - frameWaited;
                            if (wait == Timeout.InfiniteTimeSpan || left < wait)
                            {
                                wait = left > TimeSpan.Zero ? left : TimeSpan.FromTicks(1);
                                frameBound = true;
                            }

                            waitStarted = Stopwatch.GetTimestamp();
                        }

                        timer.CancelAfter(wait);
                    }

                    result = await input.ReadAsync(timer?.Token ?? closing);
                }
                catch (OperationCanceledException) when (closing.IsCancellationRequested)
                {
                    // The server is stopping (e.g. SIGTERM): everything read has been answered.
                    break;
                }
                catch (OperationCanceledException) when (timer?.IsCancellationRequested == true)
                {
                    TimedOut(connection, frameBound, frameBound ? limits.FrameTimeout : limits.IdleTimeout);
                    break;
                }

                if (waitStarted != 0)
                {
                    frameWaited += Stopwatch.GetElapsedTime(waitStarted);
                }

                if (timer is not null && !timer.TryReset())
                {
                    // The timer fired just as the bytes arrived: the next read gets a fresh one.
                    timer.Dispose();
                    timer = CancellationTokenSource.CreateLinkedTokenSource(closing);
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
                inFrame = !buffer.IsEmpty;
                if (!inFrame)
                {
                    frameWaited = TimeSpan.Zero;
                }

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
            timer?.Dispose();
            session.Closed();
        }

        await input.CompleteAsync();
        await output.CompleteAsync();
    }

    /// <summary>Counts a connection closed for taking too long and logs it, at most once per interval for each reason.</summary>
    private void TimedOut(ConnectionContext connection, bool inFrame, TimeSpan limit)
    {
        Instruments.Errors(inFrame ? "frame_timeout" : "idle_timeout");
        if (!(inFrame ? _frameLog : _idleLog).ShouldLog(out long notLogged))
        {
            return;
        }

        if (inFrame)
        {
            LogFrame(Logger, Instruments.Name, connection.RemoteEndPoint, limit, notLogged);
        }
        else
        {
            LogIdle(Logger, Instruments.Name, connection.RemoteEndPoint, limit, notLogged);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "{Endpoint}: a connection from {RemoteEndPoint} was closed by the idle timeout, nothing received for {IdleTimeout} ({NotLogged} more since the last message)")]
    private static partial void LogIdle(ILogger logger, string endpoint, System.Net.EndPoint? remoteEndPoint, TimeSpan idleTimeout, long notLogged);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Endpoint}: a connection from {RemoteEndPoint} was closed by the frame timeout, a frame still incomplete {FrameTimeout} after its first byte ({NotLogged} more since the last message)")]
    private static partial void LogFrame(ILogger logger, string endpoint, System.Net.EndPoint? remoteEndPoint, TimeSpan frameTimeout, long notLogged);

    [LoggerMessage(Level = LogLevel.Error, Message = "{Endpoint} connection {ConnectionId} aborted: {Reason}")]
    private static partial void LogAborted(ILogger logger, Exception exception, string endpoint, string connectionId, string reason);
}
