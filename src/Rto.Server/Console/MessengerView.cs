using Rto.Server.Messenger;

namespace Rto.Server.Console;

/// <summary>The chat page: the last messages, then each new one as it is sent.</summary>
internal sealed class MessengerView(ChatRoom room)
{
    /// <summary>How many of the latest messages a page opens with.</summary>
    public const int RecentCount = 100;

    public LiveView Stream()
    {
        long after = 0;
        bool first = true;
        return new LiveView(() =>
        {
            if (!first && after == room.Head)
            {
                return null;
            }

            var messages = room.ReadSince(ref after, first ? RecentCount : room.Capacity);
            object update = new
            {
                reset = first,
                subscribers = room.SubscriptionCount,
                messages = messages.Select(m => new { author = m.Author, text = m.Text, sendTime = m.SendTime?.ToDateTimeOffset() }),
            };
            first = false;
            return update;
        });
    }
}
