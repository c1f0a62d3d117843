using Rto.Client.Messaging;

namespace Rto.Server.Tests.Messenger;

/// <summary>Bounded waits for messenger tests: nothing here waits on a timer for an event.</summary>
internal static class MessengerTestKit
{
    public static readonly TimeSpan WaitLimit = TimeSpan.FromSeconds(15);

    public static MessengerClientOptions FastOptions => new()
    {
        ConnectTimeout = TimeSpan.FromSeconds(2),
        SendTimeout = TimeSpan.FromSeconds(5),
        OpenTimeout = TimeSpan.FromSeconds(5),
    };

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
