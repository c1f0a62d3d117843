using System.Buffers;
using System.Buffers.Binary;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using Rto.Server.Cluster;

namespace Rto.Server.Metrics;

/// <summary>
/// Metrics in a cluster: a connection's puts of one batch are published as one message to the
/// stream <see cref="StreamName"/> and acknowledged once JetStream stored it (a majority of the
/// replicas); every node applies the stream, in order, to its own <see cref="MetricStore"/>
/// (a replica without a log: the stream is the log, and the store is rebuilt from it on start).
/// </summary>
/// <remarks>
/// How fresh a get is: a get on a connection waits until this node has applied the highest
/// sequence that connection got acknowledged (read-your-writes), and at least the stream's last
/// sequence when the node joined (a restarted node never answers from a half-rebuilt store). Points
/// put through other connections are visible once this node applied them: <see cref="Lag"/>
/// (the health entry's <c>clusterLag</c>) says how far behind the stream the node is.
/// </remarks>
internal sealed partial class MetricsReplication(ClusterConnection cluster, MetricStore store, IOptions<MetricsOptions> options, ILogger<MetricsReplication> logger) : IClusterMember
{
    /// <summary>The stream every node publishes puts to and applies.</summary>
    public const string StreamName = "RTO_METRICS";

    /// <summary>The stream's one subject: one message per connection batch of puts.</summary>
    public const string Subject = "rto.metrics.points";

    /// <summary>A batch of puts is published once it holds this many bytes (JetStream's default message limit is 1 MiB).</summary>
    public const int MaxBatchBytes = 256 * 1024;

    /// <summary>The format byte that starts every message.</summary>
    private const byte Format = 1;

    private ClusterStreamReader? _reader;
    private ulong _floor;
    private ulong _published;

    /// <summary>The node's availability, consulted before puts are accepted.</summary>
    public ClusterAvailability Availability => cluster.Availability;

    /// <summary>How long a get waits for this node to apply what it must show.</summary>
    public TimeSpan ReadTimeout => cluster.RequestTimeout;

    /// <summary>The last stream sequence applied to this node's store.</summary>
    public ulong Applied => _reader?.Applied ?? 0;

    /// <summary>The stream's last sequence when this node joined: gets wait until the store has it.</summary>
    public ulong Floor => _floor;

    /// <summary>How many messages this node knows to exist (its own acknowledgements, the floor) that it has not applied yet.</summary>
    public ulong Lag
    {
        get
        {
            ulong known = Math.Max(Interlocked.Read(ref _published), _floor);
            ulong applied = Applied;
            return known > applied ? known - applied : 0;
        }
    }

    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        MetricsOptions metrics = options.Value;
        INatsJSStream stream = await cluster.EnsureStreamAsync(new StreamConfig(StreamName, [Subject])
        {
            Description = "Rto metrics: every acknowledged put, in one order (each node's store is rebuilt from it)",
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
            MaxAge = metrics.Retention,
            MaxMsgSize = MaxBatchBytes + metrics.MaxLineLength + 1024,
            DuplicateWindow = TimeSpan.FromMinutes(2),
        }, cancellationToken);
        _floor = stream.Info.State.LastSeq;
        _reader = new ClusterStreamReader(cluster, StreamName, "metrics", Apply, logger);

        // The store starts empty: read the whole stream (what is left of it under Metrics:Retention).
        await _reader.StartAsync(Math.Max(1, stream.Info.State.FirstSeq), cancellationToken);
        LogJoined(StreamName, _floor, cluster.Replicas);
    }

    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        if (_reader is not null)
        {
            await _reader.StopAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Publishes one batch of puts (<see cref="MetricsPutBatch"/>) and returns its stream sequence
    /// once JetStream stored it. Failures come as <see cref="IOException"/>, which the TCP loop
    /// answers by closing the connection without the batch's replies, as for a local log failure.
    /// </summary>
    public async ValueTask<ulong> PublishAsync(MetricsPutBatch batch, CancellationToken cancellationToken)
    {
        try
        {
            PubAckResponse ack = await cluster.PublishAsync(Subject, batch.ToArray(), cluster.NewMessageId(), "the points were not stored", cancellationToken);
            ulong sequence = ack.Seq;
            ulong known = _published;
            while (sequence > known)
            {
                ulong seen = Interlocked.CompareExchange(ref _published, sequence, known);
                if (seen == known)
                {
                    break;
                }

                known = seen;
            }

            return sequence;
        }
        catch (Exception ex) when (ex is ClusterUnavailableException or ClusterUnconfirmedException)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    /// <summary>Waits until this node has applied <paramref name="sequence"/> (and its floor); false after <see cref="ReadTimeout"/>.</summary>
    public ValueTask<bool> WaitForAsync(ulong sequence, CancellationToken cancellationToken) =>
        _reader is null ? ValueTask.FromResult(false) : _reader.WaitForAsync(Math.Max(sequence, _floor), ReadTimeout, cancellationToken);

    /// <summary>Whether every get asks the stream for its last sequence first (<see cref="MetricsClusterReads.Latest"/>).</summary>
    public bool ReadsLatest => options.Value.ClusterReads == MetricsClusterReads.Latest;

    /// <summary>The stream's last sequence now, from its leader: everything acknowledged anywhere before this call is at or below it.</summary>
    /// <exception cref="IOException">The stream did not answer; the get gets an error reply instead.</exception>
    public async ValueTask<ulong> LastSequenceAsync(CancellationToken cancellationToken)
    {
        cluster.Availability.ThrowIfUnavailable("the get was not answered");
        using var timeout = CancellationTokenSource.CreateLinkedTokenSource(cancellationToken);
        timeout.CancelAfter(ReadTimeout);
        try
        {
            INatsJSStream stream = await cluster.JetStream.GetStreamAsync(StreamName, cancellationToken: timeout.Token);
            return stream.Info.State.LastSeq;
        }
        catch (Exception ex) when (ex is NATS.Client.Core.NatsException || (ex is OperationCanceledException && !cancellationToken.IsCancellationRequested))
        {
            throw new ClusterUnavailableException($"the stream {StreamName} did not say its last sequence within Cluster:RequestTimeout ({ClusterConnection.Describe(ex)}); the get was not answered. Retry later or on another node.", ex);
        }
    }

    /// <summary>Whether a get needing <paramref name="sequence"/> can be answered at once.</summary>
    public bool HasApplied(ulong sequence) => Applied >= Math.Max(sequence, _floor);

    /// <summary>The error line of a get that waited too long.</summary>
    public byte[] ReadTimeoutReply(ulong sequence) => System.Text.Encoding.UTF8.GetBytes(
        $"error\nthis node has applied the metrics stream up to #{Applied}, not yet #{Math.Max(sequence, _floor)}, within Cluster:RequestTimeout ({ReadTimeout.TotalSeconds:0.###} s); retry, or ask another node\n\n");

    /// <summary>The error line of a put refused because the node cannot reach a quorum.</summary>
    public byte[] UnavailableReply() => System.Text.Encoding.UTF8.GetBytes(
        $"error\nCluster unavailable on this node: {cluster.Availability.Reason}; the point was not stored. Retry later or on another node.\n\n");

    /// <summary>Applies one message of the stream to the store.</summary>
    private void Apply(INatsJSMsg<byte[]> message, ulong sequence)
    {
        if (!MetricsPutBatch.TryApply(message.Data, store))
        {
            LogForeignMessage(sequence, StreamName);
        }
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Metrics joined the cluster: stream {Stream} up to #{Floor} is being applied to this node's store, {Replicas} replicas")]
    private partial void LogJoined(string stream, ulong floor, int replicas);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Message #{Sequence} of {Stream} is not a batch of metric puts; skipped")]
    private partial void LogForeignMessage(ulong sequence, string stream);
}

/// <summary>
/// A connection's puts of one batch as one stream message: a format byte, then per put the key
/// length (LEB128), the key, the timestamp and the value's bits (8 bytes each, little-endian).
/// </summary>
internal sealed class MetricsPutBatch
{
    private readonly ArrayBufferWriter<byte> _buffer = new(4096);

    /// <summary>Puts in the batch.</summary>
    public int Count { get; private set; }

    /// <summary>Bytes in the batch.</summary>
    public int Length => _buffer.WrittenCount;

    public void Add(ReadOnlySpan<byte> key, long timestamp, double value)
    {
        if (Count == 0)
        {
            _buffer.GetSpan(1)[0] = 1;
            _buffer.Advance(1);
        }

        Span<byte> span = _buffer.GetSpan(key.Length + 21);
        int length = 0;
        uint rest = (uint)key.Length;
        while (rest >= 0x80)
        {
            span[length++] = (byte)(rest | 0x80);
            rest >>= 7;
        }

        span[length++] = (byte)rest;
        key.CopyTo(span[length..]);
        length += key.Length;
        BinaryPrimitives.WriteInt64LittleEndian(span[length..], timestamp);
        BinaryPrimitives.WriteInt64LittleEndian(span[(length + 8)..], BitConverter.DoubleToInt64Bits(value));
        _buffer.Advance(length + 16);
        Count++;
    }

    public byte[] ToArray() => _buffer.WrittenSpan.ToArray();

    public void Clear()
    {
        _buffer.ResetWrittenCount();
        Count = 0;
    }

    /// <summary>Applies every put of a message to <paramref name="store"/>; false (nothing applied) when it is not such a message.</summary>
    public static bool TryApply(ReadOnlySpan<byte> message, MetricStore store)
    {
        if (message.Length < 1 || message[0] != 1 || !IsWellFormed(message[1..]))
        {
            return false;
        }

        ReadOnlySpan<byte> rest = message[1..];
        while (!rest.IsEmpty)
        {
            int key = ReadLength(rest, out int header);
            ReadOnlySpan<byte> point = rest[(header + key)..];
            store.Apply(rest.Slice(header, key), BinaryPrimitives.ReadInt64LittleEndian(point), BitConverter.Int64BitsToDouble(BinaryPrimitives.ReadInt64LittleEndian(point[8..])));
            rest = point[16..];
        }

        return true;
    }

    private static bool IsWellFormed(ReadOnlySpan<byte> rest)
    {
        while (!rest.IsEmpty)
        {
            int key = ReadLength(rest, out int header);
            if (key <= 0 || rest.Length - header < key + 16L)
            {
                return false;
            }

            rest = rest[(header + key + 16)..];
        }

        return true;
    }

    private static int ReadLength(ReadOnlySpan<byte> span, out int header)
    {
        int value = 0;
        for (header = 0; header < span.Length && header < 4; header++)
        {
            value |= (span[header] & 0x7F) << (7 * header);
            if (span[header] < 0x80)
            {
                header++;
                return value;
            }
        }

        return -1;
    }
}
