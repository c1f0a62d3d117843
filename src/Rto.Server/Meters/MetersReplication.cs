using System.Buffers;
using System.IO.Pipelines;
using Microsoft.Extensions.Options;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Rto.Protocols.Meters;
using Rto.Server.Cluster;

namespace Rto.Server.Meters;

/// <summary>
/// Meters in a cluster: the registry lives in the key-value bucket <see cref="Bucket"/> (one key,
/// the whole registry file, so a change is all or nothing on every node, as a reload of the file
/// is), watched by every node; accepted readings are published, one message per connection batch,
/// to the stream <see cref="StreamName"/>, which every node applies to its own windows (a replica
/// store without a log: the stream is the log, rebuilt from on start).
/// </summary>
internal sealed partial class MetersReplication(
    ClusterConnection cluster, MeterStore store, MeterRegistry registry, PowerCalculator power, IOptions<MetersOptions> options, ILogger<MetersReplication> logger) : IClusterMember
{
    /// <summary>The bucket holding the registry.</summary>
    public const string Bucket = "rto_meters_registry";

    /// <summary>The bucket's one key: the registry file's bytes.</summary>
    public const string RegistryKey = "registry";

    /// <summary>The stream of accepted readings.</summary>
    public const string StreamName = "RTO_METERS";

    /// <summary>Readings, as the TSV lines of <c>readings.log</c>, one message per connection batch.</summary>
    public const string ReadingsSubject = "rto.meters.readings";

    /// <summary>
    /// Power points, as the lines of <c>power.log</c>. Every node computes them from its copy of the
    /// readings and publishes them with the voltage reading's timestamp as message id, so a point two
    /// nodes computed for the same voltage reading is stored once (JetStream's duplicate window).
    /// </summary>
    public const string PowerSubject = "rto.meters.power";

    /// <summary>A batch is published in messages of at most this many bytes (JetStream's default limit is 1 MiB).</summary>
    private const int MaxMessageBytes = 512 * 1024;

    private readonly CancellationTokenSource _leaving = new();
    private readonly TaskCompletionSource _registryLoaded = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private ClusterStreamReader? _reader;
    private INatsKVStore? _bucket;
    private Task _watching = Task.CompletedTask;
    private byte[] _lastRegistry = [];

    /// <summary>The last stream sequence applied to this node's windows.</summary>
    public ulong Applied => _reader?.Applied ?? 0;

    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        MetersOptions meters = options.Value;
        _bucket = await cluster.EnsureBucketAsync(new NatsKVConfig(Bucket)
        {
            Description = "Rto meters: the registry (one key, the whole TSV file)",
            History = 10,
            Storage = NatsKVStorageType.File,
        }, cancellationToken);

        // The first node seeds the bucket with its file; later nodes (and restarts) take the bucket's.
        byte[] file = await File.ReadAllBytesAsync(registry.Path, cancellationToken);
        try
        {
            await _bucket.CreateAsync(RegistryKey, file, cancellationToken: cancellationToken);
            LogSeeded(Bucket, registry.Path);
        }
        catch (NatsKVCreateException)
        {
        }

        _watching = WatchRegistryAsync(_bucket, _leaving.Token);
        await _registryLoaded.Task.WaitAsync(cancellationToken);
        registry.Reloaded += OnFileReloaded;

        INatsJSStream stream = await cluster.EnsureStreamAsync(new StreamConfig(StreamName, [ReadingsSubject, PowerSubject])
        {
            Description = "Rto meters: every accepted reading (each node's windows are rebuilt from it)",
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Limits,
            Discard = StreamConfigDiscard.Old,
            MaxBytes = meters.ReadingsLogMaxBytes * (meters.ReadingsLogFilesKept + 1),
            MaxMsgSize = MaxMessageBytes + 1024,
            DuplicateWindow = TimeSpan.FromMinutes(2),
        }, cancellationToken);
        _reader = new ClusterStreamReader(cluster, StreamName, "meters", Apply, logger);
        await _reader.StartAsync(Math.Max(1, stream.Info.State.FirstSeq), cancellationToken);
        power.Publish = PublishPowerAsync;
        LogJoined(StreamName, stream.Info.State.LastSeq, Bucket);
    }

    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        registry.Reloaded -= OnFileReloaded;
        await _leaving.CancelAsync();
        await _watching.WaitAsync(cancellationToken);
        if (_reader is not null)
        {
            await _reader.StopAsync(cancellationToken);
        }
    }

    /// <summary>
    /// Publishes a batch of accepted readings (TSV lines) and completes once JetStream stored it.
    /// Failures come as <see cref="IOException"/>: the TCP loop then closes the connection, and the
    /// batch is not counted as accepted.
    /// </summary>
    public async ValueTask PublishAsync(ReadOnlyMemory<byte> lines)
    {
        try
        {
            while (!lines.IsEmpty)
            {
                int length = lines.Length;
                if (length > MaxMessageBytes)
                {
                    // Split at a line end: a message always holds whole lines.
                    length = lines.Span[..MaxMessageBytes].LastIndexOf((byte)'\n') + 1;
                }

                await cluster.PublishAsync(ReadingsSubject, lines[..length].ToArray(), cluster.NewMessageId(), "the readings were not stored", CancellationToken.None);
                lines = lines[length..];
            }
        }
        catch (Exception ex) when (ex is ClusterUnavailableException or ClusterUnconfirmedException)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    /// <summary>Publishes a power point; a point of the same voltage reading published by another node within two minutes is stored once.</summary>
    private async ValueTask PublishPowerAsync(TimedValue point, CancellationToken cancellationToken)
    {
        try
        {
            byte[] line = System.Text.Encoding.ASCII.GetBytes(PowerCalculator.FormatLine(point));
            await cluster.PublishAsync(PowerSubject, line, $"power-{point.Timestamp}", "the power point was not stored", cancellationToken);
        }
        catch (Exception ex) when (ex is ClusterUnavailableException or ClusterUnconfirmedException)
        {
            throw new IOException(ex.Message, ex);
        }
    }

    /// <summary>Applies one message of the stream: readings go into this node's windows, a power point into its history.</summary>
    private void Apply(INatsJSMsg<byte[]> message, ulong sequence)
    {
        ReadOnlySpan<byte> rest = message.Data;
        if (message.Subject == PowerSubject)
        {
            if (PowerCalculator.TryParseLine(rest.TrimEnd((byte)'\n'), out TimedValue point))
            {
                power.Apply(point);
            }

            return;
        }

        while (!rest.IsEmpty)
        {
            int end = rest.IndexOf((byte)'\n');
            ReadOnlySpan<byte> line = end < 0 ? rest : rest[..end];
            rest = end < 0 ? [] : rest[(end + 1)..];
            store.AddLogLine(line);
        }

        // No log here (the stream is the log); this marks new data for the power calculator.
        store.AppendLog([]);
    }

    /// <summary>Applies every version of the registry the bucket holds, the current one first, until the node leaves.</summary>
    private async Task WatchRegistryAsync(INatsKVStore bucket, CancellationToken leaving)
    {
        while (!leaving.IsCancellationRequested)
        {
            try
            {
                await foreach (NatsKVEntry<byte[]> entry in bucket.WatchAsync<byte[]>(RegistryKey, cancellationToken: leaving))
                {
                    if (entry.Operation == NatsKVOperation.Put && entry.Value is { } bytes)
                    {
                        ApplyRegistry(bytes, entry.Revision);
                    }

                    _registryLoaded.TrySetResult();
                }
            }
            catch (OperationCanceledException) when (leaving.IsCancellationRequested)
            {
                break;
            }
            catch (Exception ex)
            {
                LogWatchRestart(Bucket, ClusterConnection.Describe(ex));
            }

            try
            {
                await Task.Delay(TimeSpan.FromMilliseconds(250), leaving);
            }
            catch (OperationCanceledException)
            {
                break;
            }
        }
    }

    private void ApplyRegistry(byte[] bytes, ulong revision)
    {
        lock (_leaving)
        {
            if (bytes.AsSpan().SequenceEqual(_lastRegistry))
            {
                return;
            }

            _lastRegistry = bytes;
        }

        MeterRegistryContent content = MeterRegistryReader.ReadAsync(PipeReader.Create(new ReadOnlySequence<byte>(bytes))).GetAwaiter().GetResult();
        registry.Replace(content, $"cluster bucket {Bucket} revision {revision}");
    }

    /// <summary>This node's file changed and was valid: it becomes the cluster's registry.</summary>
    private void OnFileReloaded(MeterRegistryReload reload)
    {
        if (!reload.Swapped || _bucket is not { } bucket)
        {
            return;
        }

        _ = Task.Run(async () =>
        {
            try
            {
                byte[] file = await File.ReadAllBytesAsync(registry.Path);
                lock (_leaving)
                {
                    _lastRegistry = file;
                }

                using var timeout = new CancellationTokenSource(cluster.RequestTimeout);
                ulong revision = await bucket.PutAsync(RegistryKey, file, cancellationToken: timeout.Token);
                LogShared(registry.Path, Bucket, revision);
            }
            catch (Exception ex) when (ex is IOException or NATS.Client.Core.NatsException or OperationCanceledException)
            {
                LogShareFailed(ex, registry.Path, Bucket);
            }
        });
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter registry: the cluster bucket {Bucket} was empty and now holds {Path}")]
    private partial void LogSeeded(string bucket, string path);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meters joined the cluster: stream {Stream} up to #{Last} is being applied; registry from bucket {Bucket}")]
    private partial void LogJoined(string stream, ulong last, string bucket);

    [LoggerMessage(Level = LogLevel.Information, Message = "Meter registry {Path} changed on this node: now the cluster's registry (bucket {Bucket} revision {Revision})")]
    private partial void LogShared(string path, string bucket, ulong revision);

    [LoggerMessage(Level = LogLevel.Error, Message = "Meter registry {Path} changed on this node but could not be stored in bucket {Bucket}: the other nodes keep the previous registry; save the file again")]
    private partial void LogShareFailed(Exception exception, string path, string bucket);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Watching bucket {Bucket} anew ({Reason})")]
    private partial void LogWatchRestart(string bucket, string reason);
}
