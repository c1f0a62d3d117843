using Rto.Client.Messenger;

namespace Rto.Server.Tests.Messenger;

/// <summary>Bounded waits for messenger tests: nothing here waits on a timer for an event.</summary>
internal static class MessengerTestKit
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(15);

    public static MessengerClientOptions FastOptions => new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        RequestTimeout = TimeSpan.FromSeconds(5),
        OpenTimeout = TimeSpan.FromSeconds(5),
    };

    /// <summary>Connects a client of its own (its own HTTP/2 connection) to <paramref name="server"/>'s messenger endpoint.</summary>
    public static Task<MessengerClient> ConnectClientAsync(TestServer server) =>
        MessengerClient.ConnectAsync("127.0.0.1", server.MessengerEndPoint.Port, FastOptions);

    /// <summary>Reads exactly <paramref name="count"/> messages, failing after <see cref="WaitLimit"/>.</summary>
    public static async Task<List<ChatMessage>> ReadAsync(this MessageSubscription subscription, int count)
    {
        using var timeout = new CancellationTokenSource(WaitLimit);
        var messages = new List<ChatMessage>(count);
        if (count == 0)
        {
            return messages;
        }

        await foreach (ChatMessage message in subscription.ReadAllAsync(timeout.Token))
        {
            messages.Add(message);
            if (messages.Count == count)
            {
                break;
            }
        }

        Assert.HasCount(count, messages, "the stream ended early");
        return messages;
    }
}
