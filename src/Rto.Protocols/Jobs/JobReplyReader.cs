using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Rto.Protocols.Jobs;

/// <summary>
/// Reads jobs replies (the client side of the protocol): the request echoed with a
/// <c>Response</c> added, parsed into a <see cref="JobEnvelope"/> whose
/// <see cref="JobEnvelope.Response"/> is set. A reply without a <c>Response</c> carrying a
/// <c>Status</c>, bytes that are not JSON, or a reply over the maximum size are returned as
/// <see cref="MessageStatus.Malformed"/> or <see cref="MessageStatus.TooLarge"/>.
/// </summary>
/// <remarks>A mutable struct: one per connection, called where it is stored. Not thread-safe.</remarks>
public struct JobReplyReader : IMessageReader<JobEnvelope>
{
    private JsonFrameReader _framer;

    /// <summary>Creates a reader that accepts replies of at most <paramref name="maxFrameSize"/> bytes.</summary>
    public JobReplyReader(int maxFrameSize)
    {
        _framer = new JsonFrameReader(maxFrameSize);
    }

    /// <summary>The largest reply, in bytes, that is accepted.</summary>
    public readonly int MaxFrameSize => _framer.MaxFrameSize;

    /// <summary>Takes the next reply; the caller disposes it once it has taken the <see cref="JobEnvelope.Response"/>.</summary>
    /// <inheritdoc cref="IMessageReader{TMessage}.TryParseMessage"/>
    public bool TryParseMessage(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, [MaybeNullWhen(false)] out JobEnvelope message) =>
        JobEnvelope.TryRead(ref _framer, input, ref consumed, ref examined, isReply: true, out message);
}
