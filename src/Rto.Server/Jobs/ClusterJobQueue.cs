using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Serialization;
using Microsoft.Extensions.Options;
using NATS.Client.Core;
using NATS.Client.JetStream;
using NATS.Client.JetStream.Models;
using NATS.Client.KeyValueStore;
using Rto.Protocols.Jobs;
using Rto.Server.Cluster;

namespace Rto.Server.Jobs;

/// <summary>
/// One job queue for the cluster: a job accepted by any node is published to the work-queue stream
/// <see cref="StreamName"/>; every node pulls from the one durable consumer <see cref="ConsumerName"/>
/// only while it has a free slot, runs the job on its <see cref="JobRunner"/>, answers on the
/// accepting node's reply subject and then acknowledges. While a job runs its node reports progress,
/// so only a node that died (or hangs) lets the job be redelivered, after <see cref="JobsOptions.ClusterAckWait"/>.
/// </summary>
internal sealed partial class ClusterJobQueue(
    ClusterConnection cluster, JobRunner runner, JobsActivity activity, IOptions<JobsOptions> options, ILogger<ClusterJobQueue> logger)
    : IJobDispatcher, IClusterMember, IDisposable
{
    /// <summary>The queue: one message per job, removed when a node acknowledges it.</summary>
    public const string StreamName = "RTO_JOBS";

    public const string Subject = "rto.jobs.queue";

    /// <summary>The one durable consumer every node pulls from.</summary>
    public const string ConsumerName = "rto-jobs-queue";

    /// <summary>Each node's running jobs and connections, for the Info requests.</summary>
    public const string NodesBucket = "rto_jobs_nodes";

    /// <summary>Replies go to <c>rto.jobs.replies.&lt;node&gt;.&lt;id&gt;</c>, where the accepting node waits.</summary>
    public const string RepliesSubject = "rto.jobs.replies";

    /// <summary>A node's counts older than this are of a node that is gone.</summary>
    private static readonly TimeSpan CountsFresh = TimeSpan.FromSeconds(5);

    private readonly CancellationTokenSource _leaving = new();
    private readonly List<Task> _loops = [];
    private INatsJSConsumer _consumer = null!;
    private INatsKVStore _nodes = null!;

    private JobsOptions Options => options.Value;

    public async Task JoinAsync(CancellationToken cancellationToken)
    {
        await cluster.EnsureStreamAsync(new StreamConfig(StreamName, [Subject])
        {
            Description = "Rto jobs: the cluster's one job queue",
            Storage = StreamConfigStorage.File,
            Retention = StreamConfigRetention.Workqueue,
            MaxMsgs = Options.ClusterQueueCapacity,
            Discard = StreamConfigDiscard.New,
            DuplicateWindow = TimeSpan.FromMinutes(2),
        }, cancellationToken);
        _consumer = await cluster.JetStream.CreateOrUpdateConsumerAsync(StreamName, new ConsumerConfig(ConsumerName)
        {
            DurableName = ConsumerName,
            AckPolicy = ConsumerConfigAckPolicy.Explicit,
            AckWait = Options.ClusterAckWait,
            MaxDeliver = 5,
            DeliverPolicy = ConsumerConfigDeliverPolicy.All,
        }, cancellationToken);
        _nodes = await cluster.EnsureBucketAsync(new NatsKVConfig(NodesBucket)
        {
            Description = "Rto jobs: each node's running jobs and connections",
            History = 1,
            Storage = NatsKVStorageType.Memory,
            MaxAge = TimeSpan.FromMinutes(1),
        }, cancellationToken);

        _loops.Add(ReportCountsAsync(_leaving.Token));
        if (Options.ClusterRunJobs)
        {
            for (int slot = 0; slot < Options.MaxParallelJobs; slot++)
            {
                _loops.Add(WorkAsync(_leaving.Token));
            }
        }

        LogJoined(StreamName, Options.ClusterRunJobs ? Options.MaxParallelJobs : 0, Options.ClusterAckWait.TotalSeconds);
    }

    public async Task LeaveAsync(CancellationToken cancellationToken)
    {
        await _leaving.CancelAsync();
        await Task.WhenAll(_loops).WaitAsync(cancellationToken);
    }

    public async Task<JobOutcome> RunAsync(JobRequest request, CancellationToken serverStopping, CancellationToken clientGone)
    {
        string reply = $"{RepliesSubject}.{cluster.NodeName}.{Guid.NewGuid():N}";
        await using INatsSub<byte[]> replies = await cluster.Connection.SubscribeCoreAsync<byte[]>(reply, cancellationToken: serverStopping);
        byte[] job = JsonSerializer.SerializeToUtf8Bytes(new QueuedJob(request.Directory, request.Base, request.File, reply), JobsClusterJson.Default.QueuedJob);
        try
        {
            await cluster.PublishAsync(Subject, job, cluster.NewMessageId(), "the job was not queued", serverStopping);
        }
        catch (ClusterUnavailableException ex)
        {
            return JobOutcome.Failed(ex.Message.Contains("maximum messages", StringComparison.OrdinalIgnoreCase)
                ? $"The cluster's job queue is full ({Options.ClusterQueueCapacity} jobs waiting or running, Jobs:ClusterQueueCapacity); try again later."
                : ex.Message);
        }
        catch (ClusterUnconfirmedException ex)
        {
            return JobOutcome.Failed(ex.Message.Replace("the message", "the job", StringComparison.Ordinal));
        }

        using var waiting = CancellationTokenSource.CreateLinkedTokenSource(serverStopping, clientGone);
        try
        {
            NatsMsg<byte[]> answer = await replies.Msgs.ReadAsync(waiting.Token);
            QueuedOutcome outcome = JsonSerializer.Deserialize(answer.Data ?? [], JobsClusterJson.Default.QueuedOutcome)!;
            return new JobOutcome(outcome.ResultFile, outcome.Error);
        }
        catch (OperationCanceledException) when (waiting.IsCancellationRequested)
        {
            // The job is in the queue: it runs, and writes its result, whether anyone waits or not.
            return JobOutcome.Failed(serverStopping.IsCancellationRequested
                ? "The server is shutting down; the job stays queued in the cluster and writes its result when it runs."
                : "The client disconnected; the job stays queued in the cluster and writes its result when it runs.");
        }
    }

    public async ValueTask<JobsCounts> CountAsync(CancellationToken cancellationToken)
    {
        var local = new JobsCounts(activity.RunningJobs, 0, 1 + activity.Connections);
        try
        {
            int running = 0, processes = 0;
            DateTimeOffset now = DateTimeOffset.UtcNow;
            await foreach (string key in _nodes.GetKeysAsync(cancellationToken: cancellationToken))
            {
                NatsResult<NatsKVEntry<byte[]>> entry = await _nodes.TryGetEntryAsync<byte[]>(key, cancellationToken: cancellationToken);
                if (key != cluster.NodeName && entry.Success && TryParseCounts(entry.Value.Value, out int r, out int p, out DateTimeOffset at) && now - at < CountsFresh)
                {
                    running += r;
                    processes += p;
                }
            }

            await _consumer.RefreshAsync(cancellationToken);
            return new JobsCounts(local.Running + running, (int)_consumer.Info.NumPending, local.Processes + processes);
        }
        catch (Exception ex) when (ex is NatsException or TimeoutException)
        {
            // Without the cluster the node still knows itself.
            LogCountsFailed(ClusterConnection.Describe(ex));
            return local;
        }
    }

    /// <summary>One slot: pulls a job only while this slot is free, runs it, answers, acknowledges.</summary>
    private async Task WorkAsync(CancellationToken leaving)
    {
        while (!leaving.IsCancellationRequested)
        {
            try
            {
                INatsJSMsg<byte[]>? next = await _consumer.NextAsync<byte[]>(opts: new NatsJSNextOpts { Expires = TimeSpan.FromSeconds(5) }, cancellationToken: leaving);
                if (next is { } message)
                {
                    await RunQueuedAsync(message, leaving);
                }
            }
            catch (OperationCanceledException) when (leaving.IsCancellationRequested)
            {
            }
            catch (Exception ex) when (ex is NatsException or TimeoutException or JsonException)
            {
                LogPullFailed(ClusterConnection.Describe(ex));
                await Task.Delay(TimeSpan.FromMilliseconds(500), CancellationToken.None);
            }
        }
    }

    private async Task RunQueuedAsync(INatsJSMsg<byte[]> message, CancellationToken leaving)
    {
        QueuedJob? job = JsonSerializer.Deserialize(message.Data ?? [], JobsClusterJson.Default.QueuedJob);
        if (job is null)
        {
            await message.AckTerminateAsync(cancellationToken: leaving);
            return;
        }

        LogTaken(job.Directory, job.File, message.Metadata?.NumDelivered ?? 1);
        using var running = CancellationTokenSource.CreateLinkedTokenSource(leaving);
        Task progress = ReportProgressAsync(message, running.Token);
        JobOutcome outcome;
        try
        {
            outcome = await runner.RunAsync(new JobRequest { Directory = job.Directory, Base = job.Base, File = job.File }, leaving);
        }
        finally
        {
            await running.CancelAsync();
            await progress;
        }

        if (leaving.IsCancellationRequested)
        {
            // Stopped by this node's shutdown, not finished: another node runs it now.
            await message.NakAsync(cancellationToken: CancellationToken.None);
            return;
        }

        byte[] answer = JsonSerializer.SerializeToUtf8Bytes(new QueuedOutcome(outcome.ResultFile, outcome.Error), JobsClusterJson.Default.QueuedOutcome);
        await cluster.Connection.PublishAsync(job.Reply, answer, cancellationToken: leaving);
        await message.AckAsync(cancellationToken: leaving);
    }

    /// <summary>Tells JetStream the job is still running, three times per ack wait, so it is not redelivered.</summary>
    private async Task ReportProgressAsync(INatsJSMsg<byte[]> message, CancellationToken running)
    {
        using var timer = new PeriodicTimer(Options.ClusterAckWait / 3);
        try
        {
            while (await timer.WaitForNextTickAsync(running))
            {
                try
                {
                    await message.AckProgressAsync(cancellationToken: running);
                }
                catch (NatsException)
                {
                    // The next tick tries again; a node cut off for a whole ack wait loses the job to another node.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    /// <summary>Writes this node's counts every second, for the other nodes' Info answers.</summary>
    private async Task ReportCountsAsync(CancellationToken leaving)
    {
        using var timer = new PeriodicTimer(TimeSpan.FromSeconds(1));
        try
        {
            while (await timer.WaitForNextTickAsync(leaving))
            {
                try
                {
                    string counts = string.Create(CultureInfo.InvariantCulture, $"{activity.RunningJobs} {1 + activity.Connections} {DateTimeOffset.UtcNow.ToUnixTimeMilliseconds()}");
                    await _nodes.PutAsync(cluster.NodeName, Encoding.UTF8.GetBytes(counts), cancellationToken: leaving);
                }
                catch (Exception ex) when (ex is NatsException or TimeoutException)
                {
                    // The other nodes count this one as gone until the next put.
                }
            }
        }
        catch (OperationCanceledException)
        {
        }
    }

    private static bool TryParseCounts(byte[]? value, out int running, out int processes, out DateTimeOffset at)
    {
        running = processes = 0;
        at = default;
        string[] parts = value is null ? [] : Encoding.UTF8.GetString(value).Split(' ');
        if (parts.Length != 3 || !int.TryParse(parts[0], CultureInfo.InvariantCulture, out running)
            || !int.TryParse(parts[1], CultureInfo.InvariantCulture, out processes) || !long.TryParse(parts[2], CultureInfo.InvariantCulture, out long ms))
        {
            return false;
        }

        at = DateTimeOffset.FromUnixTimeMilliseconds(ms);
        return true;
    }

    public void Dispose() => _leaving.Dispose();

    [LoggerMessage(Level = LogLevel.Information, Message = "Jobs joined the cluster queue {Stream}: {Slots} slots on this node, ack wait {AckWaitSeconds} s")]
    private partial void LogJoined(string stream, int slots, double ackWaitSeconds);

    [LoggerMessage(Level = LogLevel.Information, Message = "Job {Directory} {File} taken from the cluster queue (delivery {Delivery})")]
    private partial void LogTaken(string? directory, string? file, ulong delivery);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Pulling from the cluster job queue failed: {Reason}")]
    private partial void LogPullFailed(string reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "The cluster's job counts are unavailable ({Reason}); answering this node's")]
    private partial void LogCountsFailed(string reason);
}

/// <summary>A job in the cluster queue: the request and where the accepting node waits for the answer.</summary>
internal sealed record QueuedJob(string? Directory, string? Base, string? File, string Reply);

/// <summary>How a queued job ended, sent to the accepting node.</summary>
internal sealed record QueuedOutcome(string? ResultFile, string? Error);

[JsonSerializable(typeof(QueuedJob))]
[JsonSerializable(typeof(QueuedOutcome))]
internal sealed partial class JobsClusterJson : JsonSerializerContext;
