using System.Buffers;

namespace Rto.Protocols.Tests;

/// <summary>
/// Drives any <see cref="IMessageReader{TMessage}"/> the way a connection loop does, generically
/// (ref-struct messages included), so every protocol's reader is tested through the one shape.
/// </summary>
internal static class MessageFeed
{
    /// <summary>
    /// Feeds <paramref name="chunks"/> as a pipe would (bytes not consumed stay, new bytes are
    /// appended in a new segment) and returns <paramref name="describe"/> of every message taken.
    /// </summary>
    public static List<string> Read<TReader, TMessage>(ref TReader reader, Func<TMessage, string> describe, params byte[][] chunks)
        where TReader : struct, IMessageReader<TMessage>
        where TMessage : allows ref struct
    {
        var messages = new List<string>();
        byte[] pending = [];
        foreach (byte[] chunk in chunks)
        {
            ReadOnlySequence<byte> buffer = Segments.Of(pending, chunk);
            SequencePosition consumed = buffer.Start, examined = buffer.End;
            while (reader.TryParseMessage(buffer.Slice(consumed), ref consumed, ref examined, out TMessage? message))
            {
                messages.Add(describe(message!));
                Assert.AreEqual(consumed, examined, "after a message the reader has examined what it consumed");
            }

            Assert.AreEqual(buffer.End, examined, "a reader that needs more bytes has examined all of them");
            pending = buffer.Slice(consumed).ToArray();
        }

        return messages;
    }

    /// <summary>Every way of cutting <paramref name="bytes"/> in two, and one byte at a time.</summary>
    public static IEnumerable<(string Name, byte[][] Chunks)> Splits(byte[] bytes)
    {
        for (int at = 0; at <= bytes.Length; at++)
        {
            yield return ($"split at {at}", [bytes[..at], bytes[at..]]);
        }

        yield return ("one byte per read", [.. bytes.Select(b => new[] { b })]);
    }
}
