using System.Collections.Concurrent;
using System.Text;
using Google.Protobuf;
using Grpc.Core;
using Grpc.RtoApi;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Rto.Server.Cluster;

namespace Rto.Server.Optimization;

/// <summary>
/// RTO sessions of a cluster: any node serves any session. A session's header and every line it
/// writes (evaluations, pause, resume) are messages on its own subject of the stream
/// <see cref="StreamName"/>; one node at a time owns it, through a lease in the bucket
/// <see cref="LeaseBucket"/> taken and renewed with compare-and-set. A call on another node is
/// forwarded to the owner over NATS; when the owner is gone and its lease has expired, the node
/// takes the lease over and replays the session's messages through a fresh optimizer.
/// </summary>
/// <remarks>
/// The lease decides who serves; the stream decides what happened: every append names the
/// subject's last sequence the owner read (JetStream's expected-last-subject-sequence), so a node
/// that lost its lease without knowing (a pause, a clock far off) cannot append: it drops its copy
/// and the call fails, never diverges.
/// </remarks>
internal sealed partial class ClusterSessions(
    ClusterConnection cluster, SessionStore store, SessionCalls calls, IOptions<OptimizationOptions> options, TimeProvider time, ILogger<ClusterSessions> logger)
    : ISessionRouter, IClusterMember, IDisposable
{
    /// <summary>The stream of every session's header and lines.</summary>
    public const string StreamName = "RTO_OPTIMIZATION";

    /// <summary>Each session on <c>rto.optimization.sessions.&lt;id&gt;</c>.</summary>
    public const string SessionsSubject = "rto.optimization.sessions";

    /// <summary>Who owns which session: key = session id, value = node and lease end.</summary>
    public const string LeaseBucket = "rto_optimization_leases";

    /// <summary>Each node answers forwarded calls on <c>rto.optimization.calls.&lt;node&gt;</c>.</summary>
    public const string CallsSubject = "rto.optimization.calls";

    private const string MethodHeader = "Rto-Method";
    private const string StatusHeader = "Rto-Status";
    private const string DetailHeader = "Rto-Detail";
    private const string NotStored = "the session's change was not stored; the call had no effect";

    private readonly ConcurrentDictionary<Guid, Held> _held = new();

    // Striped gates: one per session would grow with every id a client ever sends; calls hold a
    // gate for a few NATS round trips at most, so sessions sharing a stripe barely wait.
    private readonly SemaphoreSlim[] _gates = [.. Enumerable.Range(0, 1024).Select(_ => new SemaphoreSlim(1, 1))];
    private readonly CancellationTokenSource _leaving = new();
    private INatsKVStore _leases = null!;
    private Task _serving = Task.CompletedTask;

    private TimeSpan Lease => options.Value.ClusterLease;

    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        await cluster.EnsureStreamAsync(new StreamConfig(StreamName, [$"{SessionsSubject}.*"])
        {
            Description = "Rto optimization: each RTO session's header and evaluations",
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            DuplicateWindow = TimeSpan.FromMinutes(2),
        }, cancellationToken);
        _leases = await cluster.EnsureBucketAsync(new NatsKVConfig(LeaseBucket)
        {
            Description = "Rto optimization: which node owns each RTO session",
            History = 1,
            Storage = NatsKVStorageType.File,
        }, cancellationToken);

        // Subscribed before the node serves, so a forwarded call never finds nobody here.
        var subscription = await cluster.Connection.SubscribeCoreAsync<byte[]>($"{CallsSubject}.{cluster.NodeName}", cancellationToken: cancellationToken);
        _serving = ServeForwardedAsync(subscription, _leaving.Token);
        LogJoined(StreamName, LeaseBucket, Lease.TotalSeconds);
    }

    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _leaving.CancelAsync();
        await _serving.WaitAsync(cancellationToken);

        // Leases of sessions held here are left to expire: releasing them would need the gates of
        // calls still in flight on a stopping node.
    }

    public async Task<StartResponse> StartAsync(StartRequest request, CancellationToken cancellationToken)
    {
        ThrowIfUnavailable();
        if (!store.TryStart(SessionMapping.ToSessionRequest(request), out OptimizationSession? session, out string error))
        {
            return new StartResponse { IsGood = false, Message = "Invalid start request: " + error };
        }

        Guid id = session!.Id;
        var journal = (PendingJournal)session.Journal;
        try
        {
            (ulong revision, DateTimeOffset until) = await Guard(async () =>
            {
                DateTimeOffset until = time.GetUtcNow() + Lease;
                return (await _leases.CreateAsync(Key(id), LeaseValue(until), cancellationToken: cancellationToken), until);
            });
            byte[] header = Encoding.UTF8.GetBytes(SessionFile.FormatHeader(session.Definition) + journal.Take());
            PubAckResponse ack = await Guard(() => cluster.PublishAsync(Subject(id), header, cluster.NewMessageId(), NotStored, cancellationToken, expectedLastSubjectSequence: 0));
            _held[id] = new Held(session, journal) { Revision = revision, Until = until, LastSequence = ack.Seq };
            return new StartResponse { OptimizationInstanceId = id.ToString("D"), IsGood = true, Message = "Session started" };
        }
        catch
        {
            store.Forget(id);
            _ = DeleteLeaseQuietlyAsync(id);
            throw;
        }
    }

    public Task<OptimizeIterationResponse> IterateAsync(OptimizeIterationRequest request, CancellationToken cancellationToken) =>
        IterateAsync(request, forwarded: false, cancellationToken);

    public Task<PauseResponse> PauseAsync(PauseRequest request, CancellationToken cancellationToken) =>
        PauseAsync(request, forwarded: false, cancellationToken);

    public Task<StopResponse> StopAsync(StopRequest request, CancellationToken cancellationToken) =>
        StopAsync(request, forwarded: false, cancellationToken);

    public Task<CalculateCVResponse> CalculateAsync(CalculateCVRequest request, CancellationToken cancellationToken) =>
        CalculateAsync(request, forwarded: false, cancellationToken);

    private Task<OptimizeIterationResponse> IterateAsync(OptimizeIterationRequest request, bool forwarded, CancellationToken cancellationToken) =>
        RouteAsync(nameof(IterateAsync), request.OptimizationInstanceId, request, OptimizeIterationResponse.Parser, forwarded, async (id, held) =>
        {
            OptimizeIterationResponse response;
            try
            {
                response = calls.Iterate(held?.Session, request);
            }
            catch (RpcException)
            {
                // The session could not take the evaluation and cannot rebuild itself here: it is read again from the stream at the next call.
                Drop(id);
                throw;
            }

            await AppendAsync(id, held, cancellationToken);
            return response;
        }, cancellationToken);

    private Task<PauseResponse> PauseAsync(PauseRequest request, bool forwarded, CancellationToken cancellationToken) =>
        RouteAsync(nameof(PauseAsync), request.SessionId, request, PauseResponse.Parser, forwarded, async (id, held) =>
        {
            PauseResponse response = calls.Pause(held?.Session, request);
            await AppendAsync(id, held, cancellationToken);
            return response;
        }, cancellationToken);

    private Task<CalculateCVResponse> CalculateAsync(CalculateCVRequest request, bool forwarded, CancellationToken cancellationToken) =>
        RouteAsync(nameof(CalculateAsync), request.SessionId, request, CalculateCVResponse.Parser, forwarded,
            (_, held) => Task.FromResult(calls.Calculate(held?.Session, request)), cancellationToken);

    private Task<StopResponse> StopAsync(StopRequest request, bool forwarded, CancellationToken cancellationToken) =>
        RouteAsync(nameof(StopAsync), request.SessionId, request, StopResponse.Parser, forwarded, async (id, held) =>
        {
            if (held is null)
            {
                return SessionCalls.Stopped(request.SessionId, false);
            }

            // The stream first: a lease without messages is an unknown session, messages without a lease would be taken over.
            await Guard(async () => await cluster.JetStream.PurgeStreamAsync(StreamName, new StreamPurgeRequest { Filter = Subject(id) }, cancellationToken));
            _held.TryRemove(id, out _);
            store.TryStop(request.SessionId);
            await Guard(async () =>
            {
                await _leases.PurgeAsync(Key(id), cancellationToken: cancellationToken);
                return true;
            });
            return SessionCalls.Stopped(request.SessionId, true);
        }, cancellationToken);

    /// <summary>
    /// Runs <paramref name="here"/> on the session once this node owns it (its argument is
    /// <see langword="null"/> for an unknown session), or forwards the call to the node that owns it.
    /// </summary>
    private async Task<T> RouteAsync<T>(string method, string sessionId, IMessage request, MessageParser<T> parser, bool forwarded,
        Func<Guid, Held?, Task<T>> here, CancellationToken cancellationToken)
        where T : class, IMessage<T>
    {
        if (!Guid.TryParse(sessionId, out Guid id))
        {
            return await here(Guid.Empty, null);
        }

        for (int attempt = 0; ; attempt++)
        {
            ThrowIfUnavailable();
            SemaphoreSlim gate = _gates[(id.GetHashCode() & int.MaxValue) % _gates.Length];
            await gate.WaitAsync(cancellationToken);
            Owner owner;
            try
            {
                owner = await AcquireAsync(id, cancellationToken);
                if (owner.Held is not null || owner.Node is null)
                {
                    return await here(id, owner.Held);
                }
            }
            finally
            {
                gate.Release();
            }

            if (forwarded)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"Session {id} moved to node {owner.Node} meanwhile; retry the call."));
            }

            T? answer = await ForwardAsync(owner.Node, method, request, parser, cancellationToken);
            if (answer is not null)
            {
                return answer;
            }

            // The owner is gone: wait for its lease to end, then take the session over.
            if (attempt >= 2)
            {
                throw new RpcException(new Status(StatusCode.Unavailable, $"Session {id} is owned by node {owner.Node}, which does not answer; retry after its lease ends ({owner.Until:O})."));
            }

            TimeSpan wait = owner.Until - time.GetUtcNow();
            LogOwnerGone(id, owner.Node, Math.Max(0, wait.TotalSeconds));
            if (wait > TimeSpan.Zero)
            {
                await Task.Delay(wait + TimeSpan.FromMilliseconds(50), time, cancellationToken);
            }
        }
    }

    /// <summary>Stores the lines the call wrote before it is answered; if that fails, the copy here is dropped (it is ahead of the stream).</summary>
    private async Task AppendAsync(Guid id, Held? held, CancellationToken cancellationToken)
    {
        string lines = held?.Journal.Take() ?? "";
        if (lines.Length == 0)
        {
            return;
        }

        try
        {
            PubAckResponse ack = await Guard(() => cluster.PublishAsync(Subject(id), Encoding.UTF8.GetBytes(lines), cluster.NewMessageId(), NotStored, cancellationToken, held!.LastSequence));
            held!.LastSequence = ack.Seq;
        }
        catch
        {
            Drop(id);
            throw;
        }
    }

    public void Dispose() => _leaving.Dispose();

    private void ThrowIfUnavailable()
    {
        try
        {
            cluster.Availability.ThrowIfUnavailable(NotStored);
        }
        catch (ClusterUnavailableException ex)
        {
            throw new RpcException(new Status(StatusCode.Unavailable, ex.Message));
        }
    }

    private static string Subject(Guid id) => $"{SessionsSubject}.{id:D}";

    private static string Key(Guid id) => id.ToString("D");
}
