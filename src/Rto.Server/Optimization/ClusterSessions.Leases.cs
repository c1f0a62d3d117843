using System.Buffers;
using System.Globalization;
using System.Text;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Google.Protobuf;
using Grpc.Core;
using Rto.Server.Cluster;

namespace Rto.Server.Optimization;

/// <summary>Leases, takeover and replay of <see cref="ClusterSessions"/>.</summary>
internal sealed partial class ClusterSessions
{
    /// <summary>A session this node owns: its copy, the lines not stored yet, the lease's revision and end, the subject's last sequence.</summary>
    private sealed class Held(OptimizationSession session, PendingJournal journal)
    {
        public OptimizationSession Session { get; } = session;

        public PendingJournal Journal { get; } = journal;

        public ulong Revision { get; set; }

        public DateTimeOffset Until { get; set; }

        public ulong LastSequence { get; set; }
    }

    /// <summary>Who owns a session: this node (<see cref="Held"/>), another node until <see cref="Until"/>, or nobody (an unknown session).</summary>
    private readonly record struct Owner(Held? Held, string? Node, DateTimeOffset Until);

    /// <summary>
    /// Makes this node the owner of session <paramref name="id"/> if it can: renews its own lease,
    /// or takes a lease that ended (compare-and-set on the revision it read) and replays the session
    /// when its copy is not current. Called under the session's gate.
    /// </summary>
    private async Task<Owner> AcquireAsync(Guid id, CancellationToken cancellationToken)
    {
        DateTimeOffset now = time.GetUtcNow();
        _held.TryGetValue(id, out Held? held);

        // Trust the own lease up to a fifth of its length before its end: another node's clock may be ahead.
        if (held is not null && held.Until - (Lease / 5) > now)
        {
            if (held.Until - now > Lease * 2 / 3)
            {
                return new Owner(held, cluster.NodeName, held.Until);
            }

            DateTimeOffset until = now + Lease;
            NatsResult<ulong> renewed = await Guard(async () => await _leases.TryUpdateAsync(Key(id), LeaseValue(until), held.Revision, cancellationToken: cancellationToken));
            if (renewed.Success)
            {
                held.Revision = renewed.Value;
                held.Until = until;
                return new Owner(held, cluster.NodeName, until);
            }
        }

        for (int attempt = 0; attempt < 3; attempt++)
        {
            NatsResult<NatsKVEntry<byte[]>> read = await Guard(async () => await _leases.TryGetEntryAsync<byte[]>(Key(id), cancellationToken: cancellationToken));
            if (!read.Success || !TryParseLease(read.Value.Value, out string node, out DateTimeOffset end))
            {
                // No lease: never started, or stopped (on any node).
                Drop(id);
                return new Owner(null, null, default);
            }

            now = time.GetUtcNow();
            if (node != cluster.NodeName && end > now)
            {
                Drop(id);
                return new Owner(null, node, end);
            }

            DateTimeOffset until = now + Lease;
            NatsResult<ulong> taken = await Guard(async () => await _leases.TryUpdateAsync(Key(id), LeaseValue(until), read.Value.Revision, cancellationToken: cancellationToken));
            if (!taken.Success)
            {
                continue; // another node was quicker: read who
            }

            // Nobody else held it since this node's last write (same revision): the copy here is current.
            if (held is not null && node == cluster.NodeName && read.Value.Revision == held.Revision && _held.ContainsKey(id))
            {
                held.Revision = taken.Value;
                held.Until = until;
                return new Owner(held, cluster.NodeName, until);
            }

            Drop(id);
            Held? loaded = await LoadAsync(id, taken.Value, until, cancellationToken);
            if (loaded is null)
            {
                await DeleteLeaseQuietlyAsync(id);
                return new Owner(null, null, default);
            }

            LogTookOver(id, node, loaded.Session.Evaluations);
            return new Owner(loaded, cluster.NodeName, until);
        }

        throw new RpcException(new Status(StatusCode.Unavailable, $"Session {id}: other nodes keep taking its lease; retry the call."));
    }

    /// <summary>Reads the session's messages and replays them through a fresh optimizer; null when the subject has none (stopped).</summary>
    private async Task<Held?> LoadAsync(Guid id, ulong revision, DateTimeOffset until, CancellationToken cancellationToken)
    {
        var text = new ArrayBufferWriter<byte>();
        ulong last = 0;
        await Guard(async () =>
        {
            // Message by message ("next by subject"): consumers filtered by a subject need their
            // filter in the API subject, which nats-server before 2.10 reads differently. A session
            // has its budget of evaluations at most, so a takeover costs that many round trips.
            INatsJSStream stream = await cluster.JetStream.GetStreamAsync(StreamName, cancellationToken: cancellationToken);
            while (true)
            {
                StreamMsgGetResponse got;
                try
                {
                    got = await stream.GetAsync(new StreamMsgGetRequest { Seq = last + 1, NextBySubj = Subject(id) }, cancellationToken);
                }
                catch (NatsJSApiException ex) when (ex.Error.Code == 404)
                {
                    return true;
                }

                text.Write(got.Message.Data.Span);
                last = got.Message.Seq;
            }
        });

        if (last == 0)
        {
            return null;
        }

        (SessionDefinition definition, List<SessionRecord> records) = SessionFile.FromText(text.WrittenSpan.ToArray());
        var journal = new PendingJournal();
        OptimizationSession session = OptimizationSession.Restore(definition, journal, records, time, out int mismatches, askOutstanding: true);
        if (mismatches > 0)
        {
            LogReplayMismatch(id, mismatches, definition.Method);
        }

        var held = new Held(session, journal) { Revision = revision, Until = until, LastSequence = last };
        store.Adopt(session);
        _held[id] = held;
        return held;
    }

    /// <summary>Forgets this node's copy: another node owns the session now, or the copy is ahead of or behind the stream.</summary>
    private void Drop(Guid id)
    {
        if (_held.TryRemove(id, out _))
        {
            store.Forget(id);
        }
    }

    private async Task DeleteLeaseQuietlyAsync(Guid id)
    {
        try
        {
            await _leases.PurgeAsync(Key(id));
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException or OperationCanceledException)
        {
            // A lease without messages is an unknown session to every node anyway.
        }
    }

    /// <summary>Sends the call to its owner; null when nobody answers on the owner's subject (the node is gone).</summary>
    private async Task<T?> ForwardAsync<T>(string node, string method, IMessage request, MessageParser<T> parser, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        var headers = new NatsHeaders { [MethodHeader] = method };
        NatsMsg<byte[]> reply;
        try
        {
            reply = await cluster.Connection.RequestAsync<byte[], byte[]>($"{CallsSubject}.{node}", request.ToByteArray(), headers,
                replyOpts: new NatsSubOpts { Timeout = cluster.RequestTimeout }, cancellationToken: cancellationToken);
        }
        catch (NatsNoRespondersException)
        {
            return null;
        }
        catch (Exception ex) when (ex is NatsNoReplyException or TimeoutException)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, $"Node {node}, which owns the session, did not answer within Cluster:RequestTimeout; the call may or may not have taken effect."));
        }
        catch (NatsException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"The call could not be forwarded to node {node}, which owns the session: {ClusterConnection.Describe(ex)}."));
        }

        if (reply.Headers is { } h && h.TryGetValue(StatusHeader, out var status) && Enum.TryParse(status.ToString(), out StatusCode code))
        {
            throw new RpcException(new Status(code, h.TryGetValue(DetailHeader, out var detail) ? detail.ToString() : ""));
        }

        return reply.Data is { } data ? parser.ParseFrom(data) : parser.ParseFrom([]);
    }

    /// <summary>Answers the calls other nodes forward to this node, each on its own task (a call may wait for a session's gate).</summary>
    private async Task ServeForwardedAsync(INatsSub<byte[]> subscription, CancellationToken leaving)
    {
        try
        {
            await foreach (NatsMsg<byte[]> message in subscription.Msgs.ReadAllAsync(leaving))
            {
                _ = AnswerForwardedAsync(message, leaving);
            }
        }
        catch (OperationCanceledException) when (leaving.IsCancellationRequested)
        {
        }
        finally
        {
            await subscription.DisposeAsync();
        }
    }

    private async Task AnswerForwardedAsync(NatsMsg<byte[]> message, CancellationToken leaving)
    {
        byte[] data = message.Data ?? [];
        string method = message.Headers is { } h && h.TryGetValue(MethodHeader, out var value) ? value.ToString() : "";
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(leaving);
        budget.CancelAfter(cluster.RequestTimeout);
        try
        {
            IMessage response = method switch
            {
                nameof(IterateAsync) => await IterateAsync(Grpc.RtoApi.OptimizeIterationRequest.Parser.ParseFrom(data), forwarded: true, budget.Token),
                nameof(PauseAsync) => await PauseAsync(Grpc.RtoApi.PauseRequest.Parser.ParseFrom(data), forwarded: true, budget.Token),
                nameof(StopAsync) => await StopAsync(Grpc.RtoApi.StopRequest.Parser.ParseFrom(data), forwarded: true, budget.Token),
                nameof(CalculateAsync) => await CalculateAsync(Grpc.RtoApi.CalculateCVRequest.Parser.ParseFrom(data), forwarded: true, budget.Token),
                _ => throw new RpcException(new Status(StatusCode.Unimplemented, $"unknown forwarded call '{method}'")),
            };
            await message.ReplyAsync(response.ToByteArray(), cancellationToken: leaving);
        }
        catch (Exception ex) when (ex is not NatsException)
        {
            // The answer to another node is this node's gRPC answer: every failure goes back as a status.
            Status status = ex switch
            {
                RpcException rpc => rpc.Status,
                OperationCanceledException => new Status(StatusCode.DeadlineExceeded, $"Node {cluster.NodeName} could not complete the call in time."),
                InvalidProtocolBufferException => new Status(StatusCode.InvalidArgument, ex.Message),
                _ => new Status(StatusCode.Internal, $"Node {cluster.NodeName} failed: {ex.Message}"),
            };
            if (status.StatusCode == StatusCode.Internal)
            {
                LogForwardFailed(ex, method);
            }

            try
            {
                await message.ReplyAsync(Array.Empty<byte>(), new NatsHeaders { [StatusHeader] = status.StatusCode.ToString(), [DetailHeader] = status.Detail }, cancellationToken: CancellationToken.None);
            }
            catch (NatsException)
            {
                // The asking node times out and says so.
            }
        }
        catch (NatsException ex)
        {
            LogForwardFailed(ex, method);
        }
    }

    /// <summary>Runs one NATS operation; its failures become the gRPC errors clients know from the messenger.</summary>
    private static async Task<T> Guard<T>(Func<Task<T>> operation)
    {
        try
        {
            return await operation();
        }
        catch (ClusterUnavailableException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
        catch (ClusterUnconfirmedException ex)
        {
            throw new RpcException(new Status(StatusCode.DeadlineExceeded, ex.Message));
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, $"Cluster unavailable on this node: {ClusterConnection.Describe(ex)}; {NotStored}. Retry later or on another node."));
        }
    }

    private byte[] LeaseValue(DateTimeOffset until) =>
        Encoding.UTF8.GetBytes($"{cluster.NodeName} {until.ToUnixTimeMilliseconds().ToString(CultureInfo.InvariantCulture)}");

    private static bool TryParseLease(byte[]? value, out string node, out DateTimeOffset until)
    {
        node = "";
        until = default;
        string text = value is null ? "" : Encoding.UTF8.GetString(value);
        int space = text.LastIndexOf(' ');
        if (space <= 0 || !long.TryParse(text.AsSpan(space + 1), NumberStyles.None, CultureInfo.InvariantCulture, out long ms))
        {
            return false;
        }

        node = text[..space];
        until = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "RTO sessions in stream {Stream}, leases in bucket {Bucket} ({LeaseSeconds} s)")]
    private partial void LogJoined(string stream, string bucket, double leaseSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "RTO session {SessionId}: took the lease over from {Node} and replayed {Evaluations} evaluations")]
    private partial void LogTookOver(Guid sessionId, string node, int evaluations);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RTO session {SessionId}: its owner {Node} does not answer; waiting {Seconds:F1} s for its lease to end")]
    private partial void LogOwnerGone(Guid sessionId, string node, double seconds);

    [LoggerMessage(Level = LogLevel.Warning, Message = "RTO session {SessionId}: {Mismatches} replayed candidates differ from the recorded ones (method '{Method}' changed?); continuing with the recorded values")]
    private partial void LogReplayMismatch(Guid sessionId, int mismatches, string method);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Could not answer a forwarded RTO call {Method}")]
    private partial void LogForwardFailed(Exception exception, string method);
}
