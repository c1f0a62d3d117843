using System.Diagnostics;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Serialization;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;

namespace Rto.Server.Cluster;

/// <summary>
/// This node's one connection to NATS, shared by every capability: the JetStream and key-value
/// contexts, stream and bucket creation with <see cref="ClusterOptions.Replicas"/>, the
/// <see cref="ClusterAvailability"/> probe, and unique message ids.
/// </summary>
/// <remarks>
/// A capability never opens a connection of its own: one TCP connection carries every publish,
/// consumer and request of the node, and one availability state covers all of them. Names of
/// streams and buckets follow one pattern (docs/cluster.md): stream <c>RTO_&lt;CAPABILITY&gt;</c>
/// on subjects <c>rto.&lt;capability&gt;.…</c>, bucket <c>rto_&lt;capability&gt;_&lt;what&gt;</c>.
/// </remarks>
internal sealed partial class ClusterConnection : IAsyncDisposable
{
    /// <summary>The kernel's own stream: one message per node, its last probe (a later "nodes" view reads it).</summary>
    public const string NodesStream = "RTO_CLUSTER";

    /// <summary>Each node probes on <c>rto.cluster.nodes.&lt;NodeName&gt;</c>.</summary>
    public const string NodesSubject = "rto.cluster.nodes";

    private readonly ClusterOptions _options;
    private readonly ILogger<ClusterConnection> _logger;
    private readonly NatsJSContext _probe;
    private readonly NatsJSContext _publisher;
    private readonly List<string> _streams = [];
    private readonly string _messageIdPrefix;
    private long _messageIds;
    private int _disposed;
    private int _failedProbes;

    public ClusterConnection(ClusterOptions options, ILoggerFactory loggerFactory)
    {
        _options = options;
        _logger = loggerFactory.CreateLogger<ClusterConnection>();
        NodeName = options.EffectiveNodeName;

        // A node restarted under the same NodeName must not reuse message ids still inside a
        // stream's duplicate window, so every process adds its own instance id.
        _messageIdPrefix = $"{NodeName}-{Guid.NewGuid():N}"[..(NodeName.Length + 13)] + "-";
        Connection = new NatsConnection(CreateNatsOpts(options, loggerFactory));
        JetStream = new NatsJSContext(Connection);

        // Probes get a short deadline of their own: a stream without a leader does not answer at all.
        _probe = new NatsJSContext(Connection, new NatsJSOpts(Connection.Opts, requestTimeout: TimeSpan.FromTicks(Math.Min(options.RequestTimeout.Ticks, TimeSpan.FromSeconds(2).Ticks))));

        // A publish attempt waits at most 2 s: one lost with a dying server is then repeated (same
        // message id) on the reconnected one well within RequestTimeout.
        _publisher = new NatsJSContext(Connection, new NatsJSOpts(Connection.Opts, requestTimeout: TimeSpan.FromTicks(Math.Min(options.RequestTimeout.Ticks, TimeSpan.FromSeconds(2).Ticks))));
        KeyValue = new NatsKVContext(JetStream);

        // The client raises this for the first connection too.
        int opened = 0;
        Connection.ConnectionOpened += (_, _) =>
        {
            if (Interlocked.Increment(ref opened) > 1)
            {
                LogReconnected(ConnectedServer);
            }

            return ValueTask.CompletedTask;
        };
        Connection.ConnectionDisconnected += (_, _) =>
        {
            Availability.Set(ClusterState.Disconnected, "no NATS server is reachable (reconnecting)");
            return ValueTask.CompletedTask;
        };
    }

    /// <summary>This node's name (<see cref="ClusterOptions.NodeName"/> or the default).</summary>
    public string NodeName { get; }

    /// <summary>Replicas of every stream and bucket.</summary>
    public int Replicas => _options.Replicas;

    /// <summary>How long to wait for JetStream to confirm one operation.</summary>
    public TimeSpan RequestTimeout => _options.RequestTimeout;

    public NatsConnection Connection { get; }

    public NatsJSContext JetStream { get; }

    public NatsKVContext KeyValue { get; }

    public ClusterAvailability Availability { get; } = new();

    /// <summary>The NATS server this node is connected to now, for health and logs.</summary>
    public string ConnectedServer => Connection.ServerInfo is { } info ? $"{info.Name} ({info.Host}:{info.Port}, nats-server {info.Version})" : "none";

    /// <summary>A message id unique across nodes and restarts, for JetStream's duplicate detection (<c>Nats-Msg-Id</c>).</summary>
    public string NewMessageId() => _messageIdPrefix + Interlocked.Increment(ref _messageIds).ToString(CultureInfo.InvariantCulture);

    /// <summary>Connects, retrying until <paramref name="cancellationToken"/> (the start timeout) ends; then waits for JetStream to answer.</summary>
    public async Task ConnectAsync(CancellationToken cancellationToken)
    {
        // The client retries the first connection itself (RetryOnInitialConnect) and logs each failure.
        try
        {
            await Connection.ConnectAsync().AsTask().WaitAsync(cancellationToken);
        }
        catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
        {
            throw new InvalidOperationException($"Cluster:Nats: no NATS server answered at {string.Join(", ", _options.Servers)} within Cluster:StartTimeout ({_options.StartTimeout}).");
        }

        await RetryUntilAsync("JetStream to answer (a meta leader to be elected)", async token => await JetStream.GetAccountInfoAsync(token), cancellationToken);
        await EnsureStreamAsync(new StreamConfig(NodesStream, [$"{NodesSubject}.*"])
        {
            Description = "Rto cluster: each node's last probe (one message per node)",
            Storage = StreamConfigStorage.File,
            MaxMsgsPerSubject = 1,
            MaxAge = TimeSpan.FromDays(1),
        }, cancellationToken);
        LogConnected(NodeName, ConnectedServer, Replicas);
    }

    /// <summary>Removes a replaced consumer of <paramref name="stream"/> now rather than after its inactivity threshold; it may be gone with its server already.</summary>
    public async Task DeleteConsumerQuietlyAsync(string stream, string name)
    {
        try
        {
            using var timeout = new CancellationTokenSource(RequestTimeout);
            await JetStream.DeleteConsumerAsync(stream, name, timeout.Token);
        }
        catch (Exception ex) when (ex is NatsException or OperationCanceledException)
        {
        }
    }

    /// <summary>
    /// Creates <paramref name="config"/> with <see cref="Replicas"/> replicas, or updates it to
    /// that, retrying while JetStream elects leaders; the stream then counts in the availability probe.
    /// </summary>
    public async Task<INatsJSStream> EnsureStreamAsync(StreamConfig config, CancellationToken cancellationToken)
    {
        config.NumReplicas = Replicas;
        INatsJSStream stream = await RetryUntilAsync($"stream {config.Name} to be created with {Replicas} replicas",
            async token => await JetStream.CreateOrUpdateStreamAsync(config, token), cancellationToken);
        lock (_streams)
        {
            _streams.Add(config.Name!);
        }

        return stream;
    }

    /// <summary>
    /// Publishes <paramref name="payload"/> to a stream's <paramref name="subject"/> and returns
    /// JetStream's acknowledgement: the message is then stored by a majority of the stream's
    /// replicas. Attempts that get no answer are repeated with the same
    /// <paramref name="messageId"/> (JetStream stores it once) until
    /// <see cref="ClusterOptions.RequestTimeout"/> has passed.
    /// </summary>
    /// <exception cref="ClusterUnavailableException">Refused before publishing (<paramref name="notSent"/> says so) or refused by JetStream: not stored.</exception>
    /// <exception cref="ClusterUnconfirmedException">Not confirmed in time: the message may or may not have been stored.</exception>
    /// <param name="expectedLastSubjectSequence">
    /// When set, JetStream stores the message only if the subject's last message has this sequence
    /// (0: the subject has none), and refuses it otherwise: a writer that lost its turn cannot append.
    /// </param>
    public async Task<PubAckResponse> PublishAsync(string subject, byte[] payload, string messageId, string notSent, CancellationToken cancellationToken, ulong? expectedLastSubjectSequence = null)
    {
        Availability.ThrowIfUnavailable(notSent);
        using var budget = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        budget.CancelAfter(RequestTimeout);
        var opts = new NatsJSPubOpts { MsgId = messageId, ExpectedLastSubjectSequence = expectedLastSubjectSequence };
        Exception? last = null;
        while (!budget.IsCancellationRequested)
        {
            try
            {
                NatsResult<PubAckResponse> result = await _publisher.TryPublishAsync(subject, payload, opts: opts, cancellationToken: budget.Token);
                if (result.Success)
                {
                    return result.Value.Error is { } error
                        ? throw new ClusterUnavailableException($"JetStream refused the message: {error.Description} (error {error.ErrCode}); {notSent}.")
                        : result.Value;
                }

                last = result.Error;
            }
            catch (OperationCanceledException) when (budget.IsCancellationRequested && !cancellationToken.IsCancellationRequested)
            {
                break;
            }
            catch (NatsException ex)
            {
                last = ex;
            }

            await PauseAsync(TimeSpan.FromMilliseconds(50), budget.Token);
        }

        cancellationToken.ThrowIfCancellationRequested();
        string reason = last is null ? "no answer from JetStream in time" : Describe(last);
        Availability.ReportFailure($"JetStream did not confirm a publish within Cluster:RequestTimeout ({reason})");
        throw new ClusterUnconfirmedException(
            $"JetStream did not confirm the message within Cluster:RequestTimeout ({RequestTimeout.TotalSeconds:0.###} s; {reason}): it may or may not have been stored.", last);
    }

    /// <summary>Creates (or updates) a key-value bucket with <see cref="Replicas"/> replicas; for capabilities that keep shared state (leases, registries).</summary>
    public Task<INatsKVStore> EnsureBucketAsync(NatsKVConfig config, CancellationToken cancellationToken) =>
        RetryUntilAsync($"bucket {config.Bucket} to be created with {Replicas} replicas",
            async token => await KeyValue.CreateOrUpdateStoreAsync(config with { NumberOfReplicas = Replicas }, token), cancellationToken);

    /// <summary>
    /// One probe: JetStream answers and every stream of this node has a leader. Sets
    /// <see cref="Availability"/> either way.
    /// </summary>
    public async Task ProbeAsync(CancellationToken cancellationToken)
    {
        if (Connection.ConnectionState != NatsConnectionState.Open)
        {
            Availability.Set(ClusterState.Disconnected, "no NATS server is reachable (reconnecting)");
            return;
        }

        string[] streams;
        lock (_streams)
        {
            streams = [.. _streams];
        }

        try
        {
            // A write, because only a write needs a quorum: a leader cut off from its followers
            // keeps answering reads (and calling itself leader) until it steps down, seconds later.
            byte[] probe = JsonSerializer.SerializeToUtf8Bytes(new NodeProbe(NodeName, DateTimeOffset.UtcNow, ConnectedServer), ClusterJsonContext.Default.NodeProbe);
            PubAckResponse ack = await _probe.PublishAsync($"{NodesSubject}.{NodeName}", probe, cancellationToken: cancellationToken);
            ack.EnsureSuccess();
            foreach (string name in streams)
            {
                INatsJSStream stream = await _probe.GetStreamAsync(name, cancellationToken: cancellationToken);
                if (stream.Info.Cluster is { Leader: null or "" })
                {
                    _failedProbes++;
                    Availability.Set(ClusterState.NoQuorum, $"JetStream stream {name} has no leader (fewer than a majority of its {Replicas} replicas are up)");
                    return;
                }
            }

            _failedProbes = 0;
            Availability.Set(ClusterState.Available, $"connected to {ConnectedServer}");
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
        {
            // One slow answer on a busy machine is not a lost quorum; two in a row are (a failed
            // publish already made the node refuse in between).
            if (++_failedProbes >= 2 || !Availability.IsAvailable)
            {
                Availability.Set(ClusterState.NoQuorum, $"NATS JetStream has no quorum ({Describe(ex)})");
            }
        }
    }

    /// <summary>A short, operator-readable description of a NATS failure.</summary>
    public static string Describe(Exception ex) => ex switch
    {
        NatsJSApiException api => $"JetStream error {api.Error.Code}/{api.Error.ErrCode}: {api.Error.Description}",
        NatsJSPublishNoResponseException or NatsJSApiNoResponseException or NatsNoReplyException or TimeoutException => "no answer from JetStream in time",
        NatsNoRespondersException => "no JetStream server answers",
        _ => ex.Message,
    };

    public async ValueTask DisposeAsync()
    {
        if (Interlocked.Exchange(ref _disposed, 1) == 0)
        {
            Availability.Set(ClusterState.Stopped, "the node is stopping");
            await Connection.DisposeAsync();
        }
    }

    private static NatsOpts CreateNatsOpts(ClusterOptions options, ILoggerFactory loggerFactory) => NatsOpts.Default with
    {
        Url = string.Join(',', options.Servers.Select(uri => uri.ToString().TrimEnd('/'))),
        Name = $"rto-server {options.EffectiveNodeName}",
        LoggerFactory = loggerFactory,
        AuthOpts = new NatsAuthOpts
        {
            Username = Empty(options.User),
            Password = Empty(options.Password),
            Token = Empty(options.Token),
            CredsFile = Empty(options.CredsFile),
            NKeyFile = Empty(options.NKeyFile),
        },
        TlsOpts = new NatsTlsOpts
        {
            Mode = (TlsMode)(int)options.TlsMode,
            CaFile = Empty(options.TlsCaFile),
            CertFile = Empty(options.TlsCertFile),
            KeyFile = Empty(options.TlsKeyFile),
        },
        ConnectTimeout = options.ConnectTimeout,
        RequestTimeout = options.RequestTimeout,
        CommandTimeout = options.RequestTimeout,

        // Reconnect quickly and forever: a node without NATS only refuses work, it never gives up.
        MaxReconnectRetry = -1,
        RetryOnInitialConnect = true,
        ReconnectWaitMin = TimeSpan.FromMilliseconds(100),
        ReconnectWaitMax = TimeSpan.FromSeconds(2),
        PingInterval = TimeSpan.FromSeconds(5),
    };

    private static string? Empty(string? value) => string.IsNullOrEmpty(value) ? null : value;

    // How long a refused placement (10005, 10023) is retried before it counts as a configuration error.
    private static readonly TimeSpan PlacementGrace = TimeSpan.FromSeconds(10);

    private async Task<T> RetryUntilAsync<T>(string what, Func<CancellationToken, Task<T>> operation, CancellationToken cancellationToken)
    {
        Exception? last = null;
        long placementRefusedSince = 0;
        while (true)
        {
            try
            {
                return await operation(cancellationToken);
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode is 10023 or 10005 && !cancellationToken.IsCancellationRequested
                && (placementRefusedSince == 0 || Stopwatch.GetElapsedTime(placementRefusedSince) < PlacementGrace))
            {
                // Insufficient resources, no suitable peers: right after the nats-servers start, their
                // JetStream cluster may not know every peer yet, so this is retried for a short while.
                placementRefusedSince = placementRefusedSince == 0 ? Stopwatch.GetTimestamp() : placementRefusedSince;
                last = ex;
                LogWaiting(what, Describe(ex));
            }
            catch (NatsJSApiException ex) when (ex.Error.ErrCode is 10074 or 10023 or 10005)
            {
                // Not clustered, or still no room after the grace: more replicas asked for than
                // JetStream servers (with room) exist. Waiting longer will not help.
                throw new InvalidOperationException($"JetStream refused {what}: {ex.Error.Description} (error {ex.Error.ErrCode}). Is Cluster:Replicas ({Replicas}) larger than the number of JetStream servers? Use Cluster:Replicas=1 for a single nats-server.", ex);
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException && !cancellationToken.IsCancellationRequested)
            {
                last = ex;
                LogWaiting(what, Describe(ex));
            }
            catch (OperationCanceledException) when (cancellationToken.IsCancellationRequested)
            {
            }

            if (cancellationToken.IsCancellationRequested)
            {
                throw new InvalidOperationException($"Cluster: gave up waiting for {what} after Cluster:StartTimeout ({_options.StartTimeout}): {(last is null ? "no answer" : Describe(last))}.", last);
            }

            await PauseAsync(cancellationToken);
        }
    }

    /// <summary>The pause between two attempts; ends early (without throwing) when <paramref name="cancellationToken"/> does.</summary>
    private static async Task PauseAsync(CancellationToken cancellationToken) => await PauseAsync(TimeSpan.FromMilliseconds(250), cancellationToken);

    private static async Task PauseAsync(TimeSpan pause, CancellationToken cancellationToken)
    {
        try
        {
            await Task.Delay(pause, cancellationToken);
        }
        catch (OperationCanceledException)
        {
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Cluster node {NodeName} connected to NATS {Server}; streams and buckets get {Replicas} replicas")]
    private partial void LogConnected(string nodeName, string server, int replicas);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Waiting for {What}: {Reason}")]
    private partial void LogWaiting(string what, string reason);

    [LoggerMessage(Level = LogLevel.Information, Message = "Reconnected to NATS {Server}")]
    private partial void LogReconnected(string server);
}

/// <summary>What a node's probe stores: who, when, through which NATS server.</summary>
internal sealed record NodeProbe(string Node, DateTimeOffset Time, string Server);

[JsonSerializable(typeof(NodeProbe))]
[JsonSourceGenerationOptions(PropertyNamingPolicy = JsonKnownNamingPolicy.CamelCase)]
internal sealed partial class ClusterJsonContext : JsonSerializerContext;
