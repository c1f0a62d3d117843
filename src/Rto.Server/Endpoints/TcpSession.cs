using System.Buffers;
using System.IO.Pipelines;

namespace Rto.Server.Endpoints;

/// <summary>What <see cref="TcpConnectionHandler"/>'s loop does next, as a session's step says.</summary>
internal enum TcpStep
{
    /// <summary>Every complete message is handled; the rest needs more bytes. Ends the batch: the loop flushes, reports and reads again.</summary>
    NeedMoreData,

    /// <summary>Call <see cref="TcpSession.Process"/> again with what is left of the batch.</summary>
    Continue,

    /// <summary>Flush the replies written so far, then continue: back-pressure inside a batch.</summary>
    Flush,

    /// <summary>A request is answered: flush its reply now, record its duration, then continue (a request that can take long, like a job).</summary>
    Reply,

    /// <summary>Call <see cref="TcpSession.ContinueAsync"/>: work that has to wait (a reply streamed in parts, a job).</summary>
    Await,

    /// <summary>Flush what is written, report the batch and close the connection.</summary>
    Close,
}

/// <summary>
/// One connection's protocol: its state and what it does with the bytes that arrived. This is all
/// a TCP protocol writes; <see cref="TcpConnectionHandler"/> owns the pipes, the reads, the flushes,
/// the limits and the end of the connection.
/// </summary>
/// <remarks>
/// A session sees a batch — everything one read returned — rather than one message at a time, so
/// a protocol can act once per batch (one log commit for all puts, one append for all readings)
/// as garnet's sessions consume a whole receive buffer.
/// </remarks>
internal abstract class TcpSession(ServerInstruments.EndpointInstruments instruments)
{
    /// <summary>The endpoint's instruments; the loop reports bytes and durations, the session its requests and errors.</summary>
    protected ServerInstruments.EndpointInstruments Instruments { get; } = instruments;

    /// <summary>
    /// Handles the complete messages at the start of <paramref name="buffer"/>, moving its start past
    /// them and writing their replies into <paramref name="output"/>, until a step needs the loop.
    /// Synchronous: a batch that never waits costs no state machine.
    /// </summary>
    public abstract TcpStep Process(ref ReadOnlySequence<byte> buffer, PipeWriter output);

    /// <summary>
    /// The part of a batch that has to wait, asked for by <see cref="TcpStep.Await"/>. The batch's
    /// bytes stay valid until the batch ends. Flush through <see cref="TcpConnectionHandler.FlushAsync"/>
    /// so that the bytes sent are counted.
    /// </summary>
    public virtual ValueTask<TcpStep> ContinueAsync(PipeWriter output, CancellationToken closing) =>
        throw new NotSupportedException($"{GetType().Name} never asks to wait.");

    /// <summary>Called after each batch's replies are flushed: the place to report what the batch amounted to.</summary>
    public virtual void BatchCompleted()
    {
    }

    /// <summary>Called once when the connection ends, however it ended.</summary>
    public virtual void Closed()
    {
    }
}
