using System.Collections.Concurrent;
using System.Globalization;
using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Rto.Protocols.Messenger;
using Rto.Server.Cluster;

namespace Rto.Server.Messenger;

/// <summary>
/// The chat of a cluster: every node publishes what its clients send to one JetStream stream
/// (<see cref="StreamName"/>, subject <see cref="Subject"/>) and reads that stream back, in stream
/// order, into its own <see cref="ChatRoom"/>. The stream's sequence is the one global order, and
/// a send time is derived from the time the stream stored the message, so every node shows the
/// same messages in the same order with the same send times.
/// </summary>
/// <remarks>
/// A send answers after JetStream acknowledged the message (stored by a majority of replicas) and
/// this node's room has it, so the sender's own streams on this node already carry it. Each node
/// reads with a consumer of its own that starts after the stream's last message at start-up and is
/// recreated from the next sequence whenever it fails.
/// </remarks>
internal sealed partial class JetStreamSequencer(
    ClusterConnection cluster, ChatRoom room, IOptions<MessengerOptions> options, ILogger<JetStreamSequencer> logger) : IMessageSequencer, IClusterMember
{
    /// <summary>The stream every node publishes to and reads from.</summary>
    public const string StreamName = "RTO_MESSENGER";

    /// <summary>The stream's one subject.</summary>
    public const string Subject = "rto.messenger.chat";

    private const string NotSent = "the message was not sent";

    /// <summary>Heartbeats every second, so a consumer that lost its server notices within about two.</summary>
    private static readonly NatsJSConsumeOpts ConsumeOptions = new() { MaxMsgs = 1000, Expires = TimeSpan.FromSeconds(10), IdleHeartbeat = TimeSpan.FromSeconds(1) };

    private readonly ConcurrentDictionary<string, TaskCompletionSource<ReadMessagesResponse>> _waiting = new(StringComparer.Ordinal);
    private readonly SendClock _clock = new();
    private readonly CancellationTokenSource _leaving = new();
    private Task _readLoop = Task.CompletedTask;
    private readonly TaskCompletionSource _firstReader = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private volatile bool _reading;
    private ulong _next;

    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        MessengerOptions messenger = options.Value;
        INatsJSStream stream = await cluster.EnsureStreamAsync(new StreamConfig(StreamName, [Subject])
        {
            Description = "Rto messenger: the one chat of the cluster",
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            MaxMsgs = messenger.ClusterHistory,
            Discard = StreamConfigDiscard.Old,
            MaxMsgSize = messenger.MaxMessageSize + 1024,
            DuplicateWindow = TimeSpan.FromMinutes(2),
        }, cancellationToken);

        // Start after the last stored message (the creation's answer has the stream's state), as a
        // single node's room starts empty; continue the send times after its time, as the nodes
        // that read it did.
        _next = stream.Info.State.LastSeq + 1;
        if (stream.Info.State.LastSeq > 0 && TryParseTime(stream.Info.State.LastTs, out long lastStored))
        {
            _clock.At(lastStored);
        }

        _readLoop = ReadStreamAsync(_leaving.Token);

        // Serve only once this node's reader exists: a send before would be refused.
        await _firstReader.Task.WaitAsync(cancellationToken);
        LogJoined(StreamName, _next, cluster.Replicas);
    }

    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _leaving.CancelAsync();
        await _readLoop.WaitAsync(cancellationToken);
        foreach (TaskCompletionSource<ReadMessagesResponse> waiting in _waiting.Values)
        {
            waiting.TrySetException(new ChatClosedException());
        }
    }

    public async ValueTask<Timestamp> SendAsync(string author, string text, CancellationToken cancellationToken)
    {
        if (room.IsClosed)
        {
            throw new ChatClosedException();
        }

        ThrowIfNotReading(NotSent);
        string id = cluster.NewMessageId();
        var delivered = new TaskCompletionSource<ReadMessagesResponse>(TaskCreationOptions.RunContinuationsAsynchronously);
        _waiting[id] = delivered;
        try
        {
            byte[] payload = new SendMessageRequest { Author = author, Text = text }.ToByteArray();
            PubAckResponse ack = await cluster.PublishAsync(Subject, payload, id, NotSent, cancellationToken);
            try
            {
                ReadMessagesResponse message = await delivered.Task.WaitAsync(cluster.RequestTimeout, cancellationToken);
                return message.SendTime;
            }
            catch (TimeoutException ex)
            {
                throw new ClusterUnconfirmedException(
                    $"JetStream stored the message (#{ack.Seq}), but this node has not read it back within Cluster:RequestTimeout, so its send time is unknown here; it reaches every stream.", ex);
            }
        }
        finally
        {
            _waiting.TryRemove(id, out _);
        }
    }

    public void ThrowIfCannotRead() => ThrowIfNotReading("a new stream would receive nothing now");

    private void ThrowIfNotReading(string consequence)
    {
        cluster.Availability.ThrowIfUnavailable(consequence);
        if (!_reading)
        {
            throw new ClusterUnavailableException($"This node is reconnecting to the chat stream {StreamName}; {consequence}. Retry in a moment or on another node.");
        }
    }

    /// <summary>
    /// The time the stream stored a message, in nanoseconds since 1970, from its reply subject
    /// (<c>$JS.ACK.&lt;stream&gt;.&lt;consumer&gt;.&lt;delivered&gt;.&lt;stream seq&gt;.&lt;consumer seq&gt;.&lt;time&gt;.&lt;pending&gt;</c>,
    /// or the 12-token form with domain and account hash). The client's parsed metadata keeps milliseconds only.
    /// </summary>
    internal static bool TryParseStoredTime(string? replyTo, out long unixNanos)
    {
        unixNanos = 0;
        if (replyTo is null || !replyTo.StartsWith("$JS.ACK.", StringComparison.Ordinal))
        {
            return false;
        }

        string[] tokens = replyTo.Split('.');
        int index = tokens.Length switch
        {
            9 => 7,
            >= 11 => 9,
            _ => -1,
        };
        return index > 0 && long.TryParse(tokens[index], NumberStyles.None, CultureInfo.InvariantCulture, out unixNanos);
    }

    /// <summary>An RFC 3339 UTC time as JetStream writes it (<c>2024-01-02T03:04:05.123456789Z</c>), in nanoseconds since 1970.</summary>
    internal static bool TryParseTime(string? text, out long unixNanos)
    {
        unixNanos = 0;
        if (text is null || text.Length < 20 || !text.EndsWith('Z')
            || !DateTime.TryParseExact(text[..19], "yyyy-MM-ddTHH:mm:ss", CultureInfo.InvariantCulture, DateTimeStyles.AdjustToUniversal | DateTimeStyles.AssumeUniversal, out DateTime seconds))
        {
            return false;
        }

        string fraction = text.Length > 21 && text[19] == '.' ? text[20..^1] : "";
        if (fraction.Length > 9 || !long.TryParse(fraction.PadRight(9, '0'), NumberStyles.None, CultureInfo.InvariantCulture, out long nanos))
        {
            return false;
        }

        unixNanos = ((seconds.Ticks - DateTime.UnixEpoch.Ticks) * 100) + nanos;
        return true;
    }

    /// <summary>
    /// Reads the stream into the room until the node leaves. The reader is an ephemeral consumer of
    /// this node (no acknowledgements, in memory, one replica), recreated from the next sequence
    /// after any failure: a missed heartbeat (its server died), a gap in its own sequence (a pull
    /// lost in a reconnect), or the cluster becoming available again after a loss of quorum. Sends
    /// and new streams are refused while no reader exists, so a message is never acknowledged by a
    /// node that cannot show it.
    /// </summary>
    private async Task ReadStreamAsync(CancellationToken leaving)
    {
        while (!leaving.IsCancellationRequested)
        {
            using var attempt = CancellationTokenSource.CreateLinkedTokenSource(leaving);
            Task recovered = cluster.Availability.RecoveredAsync(attempt.Token).ContinueWith(_ => attempt.Cancel(), CancellationToken.None, TaskContinuationOptions.OnlyOnRanToCompletion, TaskScheduler.Default);
            string name = $"rto-messenger-{cluster.NodeName}-{Guid.NewGuid():N}"[..(cluster.NodeName.Length + 22)];
            string reason = "";
            try
            {
                INatsJSConsumer consumer = await cluster.JetStream.CreateOrUpdateConsumerAsync(StreamName, new ConsumerConfig
                {
                    Name = name,
                    Description = $"Rto messenger reader of node {cluster.NodeName}",
                    DeliverPolicy = ConsumerConfigDeliverPolicy.ByStartSequence,
                    OptStartSeq = _next,
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
                    Deliver(message, metadata.Sequence.Stream);
                }

                if (leaving.IsCancellationRequested)
                {
                    break;
                }

                reason = reason.Length > 0 ? reason : attempt.IsCancellationRequested ? "the cluster is available again" : "the consumer ended";
            }
            catch (OperationCanceledException) when (leaving.IsCancellationRequested)
            {
                break;
            }
            catch (OperationCanceledException) when (attempt.IsCancellationRequested)
            {
                reason = reason.Length > 0 ? reason : "the cluster is available again";
            }
            catch (Exception ex)
            {
                reason = ClusterConnection.Describe(ex);
            }
            finally
            {
                _reading = false;
                await attempt.CancelAsync();
                await recovered.ContinueWith(_ => { }, CancellationToken.None, TaskContinuationOptions.None, TaskScheduler.Default);
            }

            LogReaderRestart(StreamName, _next, reason);
            _ = cluster.DeleteConsumerQuietlyAsync(StreamName, name);
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



    private void Deliver(INatsJSMsg<byte[]> delivery, ulong sequence)
    {
        if (sequence < _next)
        {
            return;
        }

        if (sequence > _next)
        {
            // Only when the stream dropped messages (Messenger:ClusterHistory) before this node read them.
            LogGap(sequence - _next, _next);
        }

        _next = sequence + 1;
        SendMessageRequest sent;
        try
        {
            sent = SendMessageRequest.Parser.ParseFrom(delivery.Data ?? []);
        }
        catch (InvalidProtocolBufferException)
        {
            LogForeignMessage(sequence, Subject);
            return;
        }

        long storedAt = TryParseStoredTime(delivery.ReplyTo, out long nanos) ? nanos : (DateTime.UtcNow.Ticks - DateTime.UnixEpoch.Ticks) * 100;
        var message = new ReadMessagesResponse { Author = sent.Author, Text = sent.Text, SendTime = _clock.At(storedAt) };
        room.TryAppend(message);
        if (delivery.Headers is { } headers && headers.TryGetValue("Nats-Msg-Id", out Microsoft.Extensions.Primitives.StringValues id)
            && _waiting.TryRemove(id.ToString(), out TaskCompletionSource<ReadMessagesResponse>? waiting))
        {
            waiting.TrySetResult(message);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Messenger joined the cluster chat: stream {Stream} from message #{Next}, {Replicas} replicas")]
    private partial void LogJoined(string stream, ulong next, int replicas);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Reading stream {Stream} anew from #{Next} ({Reason})")]
    private partial void LogReaderRestart(string stream, ulong next, string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "{Count} chat messages before #{Next} left the stream before this node read them (Messenger:ClusterHistory)")]
    private partial void LogGap(ulong count, ulong next);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message #{Sequence} on {Subject} is not a chat message; skipped")]
    private partial void LogForeignMessage(ulong sequence, string subject);
}
