using Rto.Server.Endpoints;

namespace Rto.Server.Messenger;

/// <summary>What the server does with a stream whose reader falls more than <see cref="MessengerOptions.StreamBufferCapacity"/> messages behind.</summary>
public enum SlowReaderPolicy
{
    /// <summary>
    /// End the stream with <c>RESOURCE_EXHAUSTED</c> (after what is already in flight). The
    /// reader learns that it missed messages and can reopen the stream. The default: a gap is
    /// never silent.
    /// </summary>
    Disconnect,

    /// <summary>
    /// Keep the stream open and skip ahead to the oldest message still kept: the reader silently
    /// misses messages but always gets the newest ones, still in order.
    /// </summary>
    DropOldest,
}

/// <summary>Options of the messenger gRPC endpoint (configuration section <c>Messenger</c>).</summary>
public sealed class MessengerOptions() : EndpointOptions(51075, "0.0.0.0")
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Messenger";

    /// <summary>
    /// The environment variable existing deployments set for the port. It overrides
    /// <c>appsettings.json</c> but yields to <c>Messenger__Port</c> and <c>--Messenger:Port</c>.
    /// </summary>
    public const string PortEnvironmentVariable = "MESSENGER_SERVER_PORT";

    /// <summary>
    /// How many messages a stream's reader may fall behind before <see cref="SlowReader"/>
    /// applies. The newest this many messages are kept once, in a ring all streams read from, so
    /// the memory held is about this many times the average message size, whatever the number of
    /// streams.
    /// </summary>
    public int StreamBufferCapacity { get; set; } = 1024;

    /// <summary>What happens to a stream that fell more than <see cref="StreamBufferCapacity"/> messages behind.</summary>
    public SlowReaderPolicy SlowReader { get; set; } = SlowReaderPolicy.Disconnect;

    /// <summary>The largest request accepted, in bytes (gRPC's receive limit for this service).</summary>
    public int MaxMessageSize { get; set; } = 64 * 1024;

    /// <summary>
    /// In a cluster: how many messages the JetStream stream keeps (the oldest go first). Nodes read
    /// only new messages, so this only needs to cover a node's consumer catching up after a failure.
    /// </summary>
    public long ClusterHistory { get; set; } = 100_000;

    protected override void ValidateSettings()
    {
        if (ClusterHistory < 1000)
        {
            throw new InvalidOperationException($"Messenger:ClusterHistory must be at least 1000, not {ClusterHistory}.");
        }

        if (StreamBufferCapacity < 1)
        {
            throw new InvalidOperationException($"Messenger:StreamBufferCapacity must be at least 1, not {StreamBufferCapacity}.");
        }

        if (MaxMessageSize < 64)
        {
            throw new InvalidOperationException($"Messenger:MaxMessageSize must be at least 64 bytes, not {MaxMessageSize}.");
        }

        if (!Enum.IsDefined(SlowReader))
        {
            throw new InvalidOperationException($"Messenger:SlowReader must be Disconnect or DropOldest, not {SlowReader}.");
        }
    }
}
