using System.Buffers;
using System.Diagnostics.CodeAnalysis;

namespace Rto.Protocols;

/// <summary>
/// Takes one message at a time from received bytes: the one reader shape of every Rto protocol,
/// on both sides of a connection (after BedrockFramework's <c>IMessageReader</c>).
/// </summary>
/// <typeparam name="TMessage">
/// The message. It may be a <c>ref struct</c> whose spans point into the input (or into a buffer
/// of the reader), so that hot paths parse without allocating; such a message is valid until
/// the next call or until the pipe is advanced, whichever comes first.
/// </typeparam>
/// <remarks>
/// <para>The loop that owns the pipe calls it like this:</para>
/// <code>
/// ReadOnlySequence&lt;byte&gt; buffer = result.Buffer;
/// SequencePosition consumed = buffer.Start, examined = buffer.End;
/// while (reader.TryParseMessage(buffer.Slice(consumed), ref consumed, ref examined, out var message))
/// {
///     // act on message
/// }
/// input.AdvanceTo(consumed, examined);
/// </code>
/// <para>
/// Readers never throw on bad input: a frame that is complete but not a valid message, or one
/// over the reader's size limit, is returned as a message whose <see cref="MessageStatus"/>
/// says so, and the protocol decides what to answer. Readers keep per-connection state (a
/// partly scanned frame, a buffer for lines split across segments), so they are mutable
/// structs: keep one per connection in a local or a field and call it there, not through a copy.
/// </para>
/// </remarks>
public interface IMessageReader<TMessage>
    where TMessage : allows ref struct
{
    /// <summary>Takes the next message from <paramref name="input"/>.</summary>
    /// <param name="input">The unread bytes; it starts at <paramref name="consumed"/>.</param>
    /// <param name="consumed">
    /// On entry <c>input.Start</c>. On return, the end of the bytes the reader is done with: past
    /// the message, and past bytes it skipped. It may move even when no message is returned.
    /// </param>
    /// <param name="examined">
    /// On return, how far the reader looked: <c>input.End</c> when it needs more bytes (the pipe
    /// need not wake the loop again until bytes beyond it arrive), else where the message ended.
    /// </param>
    /// <param name="message">The message; check its status before acting on it.</param>
    /// <returns>True when a message was taken; false when more bytes are needed.</returns>
    bool TryParseMessage(in ReadOnlySequence<byte> input, ref SequencePosition consumed, ref SequencePosition examined, [MaybeNullWhen(false)] out TMessage message);
}
