using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Rto.Protocols.Jobs;

/// <summary>
/// Reads jobs requests (the server side of the protocol): JSON objects back to back, each parsed
/// into a <see cref="JobEnvelope"/>. Any complete JSON value is <see cref="MessageStatus.Valid"/>
/// (the envelope tells whether it is an object with a <c>Header</c>); bytes that are not JSON,
/// or a value that does not end within the maximum frame size, are returned as
/// <see cref="MessageStatus.Malformed"/> or <see cref="MessageStatus.TooLarge"/>.
/// </summary>
/// <remarks>A mutable struct: one per connection, called where it is stored. Not thread-safe.</remarks>
public struct JobRequestReader : IMessageReader<JobEnvelope>
{
    private JsonFrameReader _framer;

    /// <summary>Creates a reader that accepts requests of at most <paramref name="maxFrameSize"/> bytes.</summary>
    public JobRequestReader(int maxFrameSize)
    {
        _framer = new JsonFrameReader(maxFrameSize);
    }

    /// <summary>The largest request, in bytes, that is accepted.</summary>
    public readonly int MaxFrameSize => _framer.MaxFrameSize;

    /// <summary>Takes the next request; the caller disposes it once the reply is written.</summary>
    /// <inheritdoc cref="IMessageReader{TMessage}.TryParseMessage"/>
    public bool TryParseMessage(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, [MaybeNullWhen(false)] out JobEnvelope message) =>
        JobEnvelope.TryRead(ref _framer, input, ref consumed, ref examined, isReply: false, out message);
}
