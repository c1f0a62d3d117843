namespace Rto.Samples.MessengerHttpClient;

/// <summary>A message as the HTTP interface shows it; <c>sendTime</c> is the protobuf JSON text.</summary>
public sealed record BufferedMessage(string Author, string Text, string SendTime);

/// <summary>
/// The messages received since the last flush, in arrival order. Thread-safe: the stream reader
/// adds while HTTP requests flush. Bounded: past <c>capacity</c> the oldest message is dropped.
/// </summary>
public sealed class MessageBuffer(int capacity)
{
    private readonly Lock _gate = new();
    private readonly Queue<BufferedMessage> _messages = new();
    private long _dropped;

    /// <summary>Messages dropped because nobody flushed in time.</summary>
    public long Dropped => Interlocked.Read(ref _dropped);

    /// <summary>Appends a message.</summary>
    public void Add(BufferedMessage message)
    {
        lock (_gate)
        {
            if (_messages.Count >= capacity)
            {
                _messages.Dequeue();
                _dropped++;
            }

            _messages.Enqueue(message);
        }
    }

    /// <summary>Returns everything buffered, oldest first, and empties the buffer.</summary>
    public BufferedMessage[] Flush()
    {
        lock (_gate)
        {
            BufferedMessage[] all = _messages.ToArray();
            _messages.Clear();
            return all;
        }
    }
}
