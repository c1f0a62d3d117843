using Google.Protobuf.WellKnownTypes;

namespace Rto.Samples.MessengerHttpClient;

/// <summary>A message as the HTTP interface shows it; <c>sendTime</c> is the protobuf JSON text.</summary>
public sealed record BufferedMessage(string Author, string Text, string SendTime);

/// <summary>
/// The messages received since the last flush, in arrival order. Thread-safe: the stream reader
/// adds while HTTP requests send and flush. Bounded: past <c>capacity</c> the oldest message is
/// dropped. It also remembers the newest send time this client got back from the server, so a
/// flush can wait briefly for the client's own messages to come back on the stream.
/// </summary>
public sealed class MessageBuffer(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<BufferedMessage> _messages = new();
    private TaskCompletionSource _changed = new(TaskCreationOptions.RunContinuationsAsynchronously);
    private Timestamp? _lastReceived;
    private Timestamp? _lastSentHere;
    private long _dropped;

    /// <summary>Messages dropped because nobody flushed in time.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Appends a message that arrived on the stream.</summary>
    public void Add(BufferedMessage message, Timestamp sendTime)
    {
        TaskCompletionSource changed;
        lock (_gate)
        {
            if (_messages.Count >= capacity)
            {
                _messages.Dequeue();
                _dropped++;
            }

            _messages.Enqueue(message);
            _lastReceived = sendTime;
            changed = _changed;
            _changed = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        }

        changed.TrySetResult();
    }

    /// <summary>Records the send time of a message this client sent.</summary>
    public void RecordSent(Timestamp sendTime)
    {
        lock (_gate)
        {
            if (_lastSentHere is null || sendTime > _lastSentHere)
            {
                _lastSentHere = sendTime;
            }
        }
    }

    /// <summary>Forgets earlier sends: a new stream will not carry messages sent before it opened.</summary>
    public void ForgetSent()
    {
        lock (_gate)
        {
            _lastSentHere = null;
        }
    }

    /// <summary>
    /// Returns everything buffered, oldest first, and empties the buffer. If this client sent a
    /// message that has not come back on the stream yet, waits up to <paramref name="wait"/> for it.
    /// </summary>
    public async Task<BufferedMessage[]> FlushAsync(TimeSpan wait, CancellationToken cancellationToken)
    {
        Timestamp? sent;
        lock (_gate)
        {
            sent = _lastSentHere;
        }

        if (sent is not null)
        {
            try
            {
                await WaitUntilReceivedAsync(sent, cancellationToken).WaitAsync(wait, cancellationToken);
            }
            catch (TimeoutException)
            {
                // Flush what is there; the rest comes with the next flush if it arrives at all.
            }
        }

        lock (_gate)
        {
            BufferedMessage[] all = _messages.ToArray();
            _messages.Clear();
            return all;
        }
    }

    /// <summary>Completes once a message sent at <paramref name="sendTime"/> or later has arrived.</summary>
    public async Task WaitUntilReceivedAsync(Timestamp sendTime, CancellationToken cancellationToken)
    {
        while (true)
        {
            Task changed;
            lock (_gate)
            {
                if (_lastReceived is not null && _lastReceived >= sendTime)
                {
                    return;
                }

                changed = _changed.Task;
            }

            await changed.WaitAsync(cancellationToken);
        }
    }
}
