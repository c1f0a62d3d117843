using Google.Protobuf;
using Rto.Protocols.Messenger;

namespace Rto.Server.Messenger;

/// <summary>
/// The one shared chat: accepts messages, stamps each with a strictly increasing send time and
/// a sequence number, and keeps the newest <see cref="MessengerOptions.StreamBufferCapacity"/>
/// of them in a ring that every open stream reads at its own pace.
/// </summary>
/// <remarks>
/// Acceptance is one short critical section (stamp, store, advance the head), so all streams see
/// one order, and a subscription starts at the head: it gets exactly the messages accepted after
/// <see cref="Subscribe"/> returned. Publishing never waits for a reader and costs the same for
/// 1 or 1,000 streams; readers take no lock. A reader more than a ring behind finds its next
/// message overwritten and is handled by <see cref="SlowReaderPolicy"/>.
/// </remarks>
internal sealed class ChatRoom : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SendClock _clock;
    private readonly ChatEntry?[] _ring;
    private readonly CancellationTokenSource _closing = new();
    private TaskCompletionSource _published = NewSignal();
    private long _head;
    private int _subscriptions;
    private volatile bool _closed;

    public ChatRoom(MessengerOptions options, TimeProvider time)
    {
        _clock = new SendClock(time);
        _ring = new ChatEntry?[options.StreamBufferCapacity];
        Policy = options.SlowReader;
    }

    public SlowReaderPolicy Policy { get; }

    /// <summary>How far a stream may fall behind: the ring's size.</summary>
    public int Capacity => _ring.Length;

    public int SubscriptionCount => Volatile.Read(ref _subscriptions);

    public bool IsClosed => _closed;

    /// <summary>Cancelled when the room closes (server shutdown).</summary>
    public CancellationToken Closing => _closing.Token;

    /// <summary>The sequence number the next message will get.</summary>
    internal long Head => Volatile.Read(ref _head);

    /// <summary>Completes at the next publish (or close); take it before checking <see cref="Head"/>.</summary>
    internal Task NextPublish => Volatile.Read(ref _published).Task;

    /// <summary>Accepts a message, stamping it with the next send time; false once the room is closed.</summary>
    public bool TryPublish(string author, string text, out ReadMessagesResponse message)
    {
        TaskCompletionSource published;
        lock (_gate)
        {
            if (_closed)
            {
                message = null!;
                return false;
            }

            // One immutable message object is shared by every stream and the sender's reply.
            message = new ReadMessagesResponse { Author = author, Text = text, SendTime = _clock.Next() };
            published = Append(message);
        }

        published.TrySetResult();
        return true;
    }

    /// <summary>
    /// Accepts a message whose place and send time were decided elsewhere (the cluster's stream);
    /// the caller appends in that order. False once the room is closed.
    /// </summary>
    public bool TryAppend(ReadMessagesResponse message)
    {
        TaskCompletionSource published;
        lock (_gate)
        {
            if (_closed)
            {
                return false;
            }

            published = Append(message);
        }

        published.TrySetResult();
        return true;
    }

    /// <summary>Opens a subscription at the head: every message accepted after this returns reaches it.</summary>
    public ChatSubscription Subscribe()
    {
        Interlocked.Increment(ref _subscriptions);
        lock (_gate)
        {
            return new ChatSubscription(this, _head);
        }
    }

    /// <summary>Refuses new messages and ends every subscription; streams then finish promptly.</summary>
    public void Close()
    {
        TaskCompletionSource published;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            published = _published;
        }

        published.TrySetResult();
        _closing.Cancel();
    }

    public void Dispose()
    {
        Close();
        _closing.Dispose();
    }

    /// <summary>
    /// Stores <paramref name="message"/> at the head; called under the lock. Returns the signal the
    /// caller completes after leaving the lock, so waking the readers never holds it.
    /// </summary>
    private TaskCompletionSource Append(ReadMessagesResponse message)
    {
        long sequence = _head;
        Volatile.Write(ref _ring[sequence % _ring.Length], new ChatEntry(sequence, message));
        Volatile.Write(ref _head, sequence + 1);
        TaskCompletionSource published = _published;
        _published = NewSignal();
        return published;
    }

    /// <summary>
    /// The messages from sequence number <paramref name="after"/> on that are still in the ring, oldest
    /// first, at most the newest <paramref name="max"/>; <paramref name="after"/> moves past the last one.
    /// For readers that look now and then (the console) rather than keep a subscription.
    /// </summary>
    public List<ReadMessagesResponse> ReadSince(ref long after, int max)
    {
        long head = Head;
        long from = Math.Max(Math.Max(after, head - _ring.Length), head - max);
        var messages = new List<ReadMessagesResponse>((int)Math.Max(0, head - from));
        for (long sequence = Math.Max(from, 0); sequence < head; sequence++)
        {
            // A slot already reused by a newer message is skipped: it was too old anyway.
            if (EntryAt(sequence) is { } entry && entry.Sequence == sequence)
            {
                messages.Add(entry.Message);
            }
        }

        after = head;
        return messages;
    }

    internal ChatEntry? EntryAt(long sequence) => Volatile.Read(ref _ring[sequence % _ring.Length]);

    internal void Unsubscribe() => Interlocked.Decrement(ref _subscriptions);

    private static TaskCompletionSource NewSignal() => new(TaskCreationOptions.RunContinuationsAsynchronously);
}

/// <summary>A message in the ring with its sequence number, which tells a reader whether its slot was reused.</summary>
internal sealed class ChatEntry(long sequence, ReadMessagesResponse message)
{
    private byte[]? _frame;

    public long Sequence { get; } = sequence;

    public ReadMessagesResponse Message { get; } = message;

    /// <summary>
    /// The message as one gRPC length-prefixed frame (uncompressed flag, big-endian length,
    /// protobuf bytes), serialized once for every stream on first use outside the room's lock.
    /// </summary>
    public ReadOnlySpan<byte> Frame
    {
        get
        {
            byte[]? frame = Volatile.Read(ref _frame);
            if (frame is null)
            {
                int size = Message.CalculateSize();
                frame = new byte[5 + size];
                System.Buffers.Binary.BinaryPrimitives.WriteInt32BigEndian(frame.AsSpan(1), size);
                Message.WriteTo(frame.AsSpan(5));

                // Two readers may race to build it; both results are identical and either wins.
                frame = Interlocked.CompareExchange(ref _frame, frame, null) ?? frame;
            }

            return frame;
        }
    }
}

/// <summary>What <see cref="ChatSubscription.TryRead"/> found.</summary>
internal enum ChatReadStatus
{
    Message,
    Empty,
    FellBehind,
    Closed,
}

/// <summary>One reader's cursor into the <see cref="ChatRoom"/>. Used by one stream loop at a time.</summary>
internal sealed class ChatSubscription : IDisposable
{
    private readonly ChatRoom _room;
    private long _cursor;
    private bool _disposed;

    internal ChatSubscription(ChatRoom room, long start)
    {
        _room = room;
        _cursor = start;
    }

    /// <summary>Messages skipped under <see cref="SlowReaderPolicy.DropOldest"/>.</summary>
    public long Dropped { get; private set; }

    /// <summary>Whether a message is ready to read now.</summary>
    public bool HasMessage => _cursor < _room.Head && !_room.IsClosed;

    public ChatReadStatus TryRead(out ChatEntry? message)
    {
        message = null;
        while (true)
        {
            if (_room.IsClosed)
            {
                return ChatReadStatus.Closed;
            }

            if (_cursor >= _room.Head)
            {
                return ChatReadStatus.Empty;
            }

            // Below the head the slot is written; a larger sequence there means it was reused.
            ChatEntry entry = _room.EntryAt(_cursor)!;
            if (entry.Sequence == _cursor)
            {
                _cursor++;
                message = entry;
                return ChatReadStatus.Message;
            }

            if (_room.Policy == SlowReaderPolicy.Disconnect)
            {
                return ChatReadStatus.FellBehind;
            }

            long oldest = _room.Head - _room.Capacity + 1;
            Dropped += oldest - _cursor;
            _cursor = oldest;
        }
    }

    /// <summary>Completes when a message is ready or the room closed.</summary>
    public async ValueTask WaitAsync(CancellationToken cancellationToken)
    {
        while (true)
        {
            Task published = _room.NextPublish;
            if (_cursor < _room.Head || _room.IsClosed)
            {
                return;
            }

            await published.WaitAsync(cancellationToken).ConfigureAwait(false);
        }
    }

    public void Dispose()
    {
        if (!_disposed)
        {
            _disposed = true;
            _room.Unsubscribe();
        }
    }
}
