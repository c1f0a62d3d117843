using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;

namespace Rto.Server.Cluster;

/// <summary>
/// Reads one stream into this node, in stream order, from a start sequence until the node leaves:
/// the messenger's reader pattern for any capability that applies a stream to a local copy
/// (metrics points, meter readings). Each message is handed to the callback once, with its stream
/// sequence; <see cref="Applied"/> is the last sequence handed over, and
/// <see cref="WaitForAsync"/> lets a caller wait until a sequence has been applied.
/// </summary>
/// <remarks>
/// The reader is an ephemeral consumer of this node (no acknowledgements, in memory, one replica),
/// recreated from the next sequence after any failure: a missed heartbeat (its server died), a gap
/// in its own sequence (a pull lost in a reconnect), or the cluster becoming available again after
/// a loss of quorum. Messages at or below <see cref="Applied"/> are never handed over twice.
/// </remarks>
internal sealed partial class ClusterStreamReader(ClusterConnection cluster, string stream, string capability, Action<INatsJSMsg<byte[]>, ulong> apply, ILogger logger)
{
    private static readonly NatsJSConsumeOpts ConsumeOptions = new() { MaxMsgs = 1000, Expires = TimeSpan.FromSeconds(10), IdleHeartbeat = TimeSpan.FromSeconds(1) };

    private readonly CancellationTokenSource _leaving = new();
    private readonly TaskCompletionSource _firstReader = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private readonly Lock _gate = new();
    private TaskCompletionSource _progress = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Task _readLoop = Task.CompletedTask;
    private long _applied;
    private volatile bool _reading;
    private volatile CancellationTokenSource? _attempt;
    private volatile string? _stalled;

    /// <summary>The stream sequence of the last message handed to the callback (0: none yet).</summary>
    public ulong Applied => (ulong)Interlocked.Read(ref _applied);

    /// <summary>Whether a consumer is reading now (false while it is being recreated).</summary>
    public bool IsReading => _reading;

    /// <summary>Starts reading at <paramref name="startSequence"/> (1: the whole stream) and returns once the first consumer exists.</summary>
    public async Task StartAsync(ulong startSequence, CancellationToken cancellationToken)
    {
        Interlocked.Exchange(ref _applied, (long)startSequence - 1);
        _readLoop = ReadAsync(_leaving.Token);
        await _firstReader.Task.WaitAsync(cancellationToken);
    }

    /// <summary>Stops reading; waiters get <see cref="OperationCanceledException"/>.</summary>
    public async Task StopAsync(CancellationToken cancellationToken)
    {
        await _leaving.CancelAsync();
        await _readLoop.WaitAsync(cancellationToken);
    }

    /// <summary>Completes (true) once <see cref="Applied"/> reaches <paramref name="sequence"/>, or false after <paramref name="timeout"/>.</summary>
    public async ValueTask<bool> WaitForAsync(ulong sequence, TimeSpan timeout, CancellationToken cancellationToken)
    {
        if (Applied >= sequence)
        {
            return true;
        }

        using var deadline = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken, _leaving.Token);
        deadline.CancelAfter(timeout);
        try
        {
            while (true)
            {
                Task progress;
                lock (_gate)
                {
                    progress = _progress.Task;
                }

                if (Applied >= sequence)
                {
                    return true;
                }

                // A consumer whose server died may stay silent without the client noticing (no
                // heartbeat is missed while its pulls get no answer at all): a reader that someone
                // waits for and that makes no progress for a second is recreated.
                if (await Task.WhenAny(progress, Task.Delay(StallTimeout, deadline.Token)) != progress)
                {
                    deadline.Token.ThrowIfCancellationRequested();
                    Restart($"no message for {StallTimeout.TotalSeconds:0} s while #{sequence} is awaited");
                }
            }
        }
        catch (OperationCanceledException) when (!cancellationToken.IsCancellationRequested && !_leaving.IsCancellationRequested)
        {
            return Applied >= sequence;
        }
    }

    /// <summary>How long a waited-for reader may go without a message before it is recreated.</summary>
    private static readonly TimeSpan StallTimeout = TimeSpan.FromSeconds(1);

    private void Restart(string reason)
    {
        if (_attempt is { } attempt && _reading)
        {
            _stalled = reason;
            try
            {
                attempt.Cancel();
            }
            catch (ObjectDisposedException)
            {
            }
        }
    }

    private void Advance(ulong sequence)
    {
        Interlocked.Exchange(ref _applied, (long)sequence);
        TaskCompletionSource progress;
        lock (_gate)
        {
            progress = _progress;
            _progress = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        progress.TrySetResult();
    }

    private async Task ReadAsync(CancellationToken leaving)
    {
        while (!leaving.IsCancellationRequested)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(leaving);
            _attempt = attempt;
            _stalled = null;
            Task recovered = cluster.Availability.RecoveredAsync(attempt.Token).ContinueWith(_ => attempt.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            string name = $"rto-{capability}-{cluster.NodeName}-{Guid.NewGuid():N}"[..(capability.Length + cluster.NodeName.Length + 17)];
            string reason = "";
            try
            {
                INatsJSConsumer consumer = await cluster.JetStream.CreateOrUpdateConsumerAsync(stream, new ConsumerConfig
                {
                    Name = name,
                    Description = $"Rto {capability} reader of node {cluster.NodeName}",
                    DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                    OptStartSeq = Applied + 1,
                    AckPolicy = ConsumerConfigAckPolicy.None,
                    MemStorage = true,
                    NumReplicas = 1,
                    InactiveThreshold = TimeSpan.FromSeconds(30),
                }, attempt.Token);
                _reading = true;
                _firstReader.TrySetResult();
                ulong consumed = 0;
                var opts = ConsumeOptions with
                {
                    NotificationHandler = (notification, _) =>
                    {
                        if (notification is NatsJSTimeoutNotification)
                        {
                            reason = "missed heartbeats";
                            attempt.Cancel();
                        }

                        return Task.CompletedTask;
                    },
                };
                await foreach (INatsJSMsg<byte[]> message in consumer.ConsumeAsync<byte[]>(opts: opts, cancellationToken: attempt.Token))
                {
                    if (message.Metadata is not { } metadata || metadata.Sequence.Consumer != consumed + 1)
                    {
                        reason = $"consumer sequence {message.Metadata?.Sequence.Consumer} after {consumed}";
                        break;
                    }

                    consumed++;
                    ulong sequence = metadata.Sequence.Stream;
                    if (sequence > Applied)
                    {
                        apply(message, sequence);
                        Advance(sequence);
                    }
                }

                if (leaving.IsCancellationRequested)
                {
                    break;
                }

                reason = reason.Length > 0 ? reason : _stalled ?? (attempt.IsCancellationRequested ? "the cluster is available again" : "the consumer ended");
            }
            catch (OperationCanceledException) when (leaving.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException) when (attempt.IsCancellationRequested)
            {
                reason = reason.Length > 0 ? reason : _stalled ?? "the cluster is available again";
            }
            catch (Exception ex)
            {
                reason = ClusterConnection.Describe(ex);
            }
            finally
            {
                _reading = false;
                _attempt = null;
                await attempt.CancelAsync();
                await recovered.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            LogReaderRestart(logger, stream, Applied + 1, reason);
            _ = cluster.DeleteConsumerQuietlyAsync(stream, name);
            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(100), leaving);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }



    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading stream {Stream} anew from #{Next} ({Reason})")]
    private static partial void LogReaderRestart(ILogger logger, string stream, ulong next, string reason);
}
