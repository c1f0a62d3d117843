using Google.Protobuf.WellKnownTypes;

namespace Rto.Server.Messenger;

/// <summary>
/// Decides a sent message's place in the one global order and its send time, and puts it into
/// this node's <see cref="ChatRoom"/>, from which every stream of the node reads. The front door
/// chooses the implementation: <see cref="LocalSequencer"/> on a single node,
/// <see cref="JetStreamSequencer"/> in a cluster.
/// </summary>
internal interface IMessageSequencer
{
    /// <summary>
    /// Sends a message and returns its send time once it is in this node's room (and, in a
    /// cluster, stored by JetStream): a stream of this node opened before the call gets it.
    /// </summary>
    /// <exception cref="ChatClosedException">The node is shutting down.</exception>
    /// <exception cref="Cluster.ClusterUnavailableException">The node refused the message: it was not sent.</exception>
    /// <exception cref="Cluster.ClusterUnconfirmedException">The cluster did not confirm the message in time: it may have been stored.</exception>
    ValueTask<Timestamp> SendAsync(string author, string text, CancellationToken cancellationToken);

    /// <summary>Throws <see cref="Cluster.ClusterUnavailableException"/> when a new stream would not get messages now.</summary>
    void ThrowIfCannotRead();
}

/// <summary>A single node: the room itself orders and stamps messages, under its lock.</summary>
internal sealed class LocalSequencer(ChatRoom room) : IMessageSequencer
{
    public ValueTask<Timestamp> SendAsync(string author, string text, CancellationToken cancellationToken) =>
        room.TryPublish(author, text, out Protocols.Messenger.ReadMessagesResponse message)
            ? ValueTask.FromResult(message.SendTime)
            : ValueTask.FromException<Timestamp>(new ChatClosedException());

    public void ThrowIfCannotRead()
    {
    }
}

/// <summary>The room is closed: the node is shutting down.</summary>
internal sealed class ChatClosedException() : Exception("The messenger server is shutting down.");
