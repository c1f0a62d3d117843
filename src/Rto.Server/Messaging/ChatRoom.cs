using System.Threading.Channels;
using Rto.Protocols.Messaging;

namespace Rto.Server.Messaging;

/// <summary>
/// The one shared chat: accepts messages, stamps them with a strictly increasing send time and
/// fans each out to every open subscription. Acceptance and fan-out happen under one lock, so
/// every subscription sees the messages in the same order, and a subscription gets exactly the
/// messages accepted after <see cref="Subscribe"/> returned. Fan-out never waits: each
/// subscription has a bounded buffer, and a full one is handled by <see cref="SlowReaderPolicy"/>.
/// </summary>
internal sealed partial class ChatRoom : IDisposable
{
    private readonly Lock _gate = new();
    private readonly SendClock _clock;
    private readonly int _capacity;
    private readonly SlowReaderPolicy _policy;
    private readonly ILogger<ChatRoom> _logger;
    private readonly CancellationTokenSource _closing = new();
    private ChatSubscription[] _subscriptions = [];
    private bool _closed;

    public ChatRoom(MessengerOptions options, TimeProvider time, ILogger<ChatRoom> logger)
    {
        _clock = new SendClock(time);
        _capacity = options.StreamBufferCapacity;
        _policy = options.SlowReader;
        _logger = logger;
    }

    /// <summary>Cancelled when the room closes (server shutdown).</summary>
    public CancellationToken Closing => _closing.Token;

    public int SubscriptionCount => Volatile.Read(ref _subscriptions).Length;

    /// <summary>Accepts a message; false once the room is closed.</summary>
    public bool TryPublish(string author, string text, out ReadMessagesResponse message)
    {
        List<ChatSubscription>? evicted = null;
        lock (_gate)
        {
            if (_closed)
            {
                message = null!;
                return false;
            }

            // One immutable message object is shared by every stream and the sender's reply.
            message = new ReadMessagesResponse { Author = author, Text = text, SendTime = _clock.Next() };
            foreach (ChatSubscription subscription in _subscriptions)
            {
                if (!subscription.Offer(message))
                {
                    (evicted ??= []).Add(subscription);
                }
            }

            if (evicted is not null)
            {
                _subscriptions = [.. _subscriptions.Except(evicted)];
            }
        }

        if (evicted is not null)
        {
            foreach (ChatSubscription subscription in evicted)
            {
                LogEvicted(subscription.Id, _capacity);
                subscription.Complete(new ReaderFellBehindException(_capacity));
            }
        }

        return true;
    }

    /// <summary>Opens a subscription: every message accepted after this returns is offered to it.</summary>
    public ChatSubscription Subscribe()
    {
        var subscription = new ChatSubscription(this, _capacity, _policy);
        lock (_gate)
        {
            if (_closed)
            {
                subscription.Complete(null);
            }
            else
            {
                _subscriptions = [.. _subscriptions, subscription];
            }
        }

        return subscription;
    }

    /// <summary>Ends every subscription and refuses new messages; streams then finish promptly.</summary>
    public void Close()
    {
        ChatSubscription[] open;
        lock (_gate)
        {
            if (_closed)
            {
                return;
            }

            _closed = true;
            open = _subscriptions;
            _subscriptions = [];
        }

        foreach (ChatSubscription subscription in open)
        {
            subscription.Complete(null);
        }

        _closing.Cancel();
    }

    public void Dispose()
    {
        Close();
        _closing.Dispose();
    }

    internal void Unsubscribe(ChatSubscription subscription)
    {
        lock (_gate)
        {
            int index = Array.IndexOf(_subscriptions, subscription);
            if (index >= 0)
            {
                _subscriptions = [.. _subscriptions[..index], .. _subscriptions[(index + 1)..]];
            }
        }
    }

    [LoggerMessage(Level = LogLevel.Warning, Message = "Messenger stream {Subscription} fell {Capacity} messages behind and is disconnected")]
    private partial void LogEvicted(long subscription, int capacity);
}

/// <summary>One reader's place in the <see cref="ChatRoom"/>: a bounded buffer of messages to deliver.</summary>
internal sealed class ChatSubscription : IDisposable
{
    private static long s_nextId;

    private readonly ChatRoom _room;
    private readonly Channel<ReadMessagesResponse> _buffer;
    private long _dropped;

    internal ChatSubscription(ChatRoom room, int capacity, SlowReaderPolicy policy)
    {
        _room = room;
        var options = new BoundedChannelOptions(capacity)
        {
            // Writes happen only under the room's lock, reads only from the stream's loop.
            SingleWriter = true,
            SingleReader = true,
            FullMode = policy == SlowReaderPolicy.DropOldest ? BoundedChannelFullMode.DropOldest : BoundedChannelFullMode.Wait,
        };
        _buffer = Channel.CreateBounded<ReadMessagesResponse>(options, _ => Interlocked.Increment(ref _dropped));
    }

    public long Id { get; } = Interlocked.Increment(ref s_nextId);

    public ChannelReader<ReadMessagesResponse> Reader => _buffer.Reader;

    /// <summary>Messages dropped to make room under <see cref="SlowReaderPolicy.DropOldest"/>.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    public void Dispose() => _room.Unsubscribe(this);

    /// <summary>Buffers <paramref name="message"/>; false when the buffer is full and the policy is to disconnect.</summary>
    internal bool Offer(ReadMessagesResponse message) => _buffer.Writer.TryWrite(message);

    internal void Complete(Exception? error) => _buffer.Writer.TryComplete(error);
}

/// <summary>Ends a subscription whose reader fell a whole buffer behind (<see cref="SlowReaderPolicy.Disconnect"/>).</summary>
internal sealed class ReaderFellBehindException(int capacity)
    : Exception($"This stream fell more than {capacity} messages behind and was closed (Messenger:SlowReader=Disconnect); open a new stream to continue.");
