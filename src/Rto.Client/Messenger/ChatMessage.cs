using Google.Protobuf;
using Google.Protobuf.WellKnownTypes;

namespace Rto.Client.Messenger;

/// <summary>A message received on a stream.</summary>
/// <param name="Author">Who sent it.</param>
/// <param name="Text">What was sent.</param>
/// <param name="SendTime">The time the server assigned when it accepted the message, to the nanosecond.</param>
public sealed record ChatMessage(string Author, string Text, Timestamp SendTime)
{
    /// <summary><see cref="SendTime"/> as RFC 3339 text, exactly as protobuf JSON and grpcurl print it.</summary>
    public string SendTimeText => MessengerTime.ToText(SendTime);
}

/// <summary>Conversions of messenger send times.</summary>
public static class MessengerTime
{
    /// <summary>
    /// The RFC 3339 text of <paramref name="time"/> as protobuf's JSON mapping prints it
    /// (e.g. <c>2021-09-12T10:25:22.454093428Z</c>). Times from the Rto server always carry
    /// 9 fractional digits, so their texts sort as the times do.
    /// </summary>
    public static string ToText(Timestamp time)
    {
        ArgumentNullException.ThrowIfNull(time);

        // The JSON formatter writes a Timestamp as a JSON string: drop the quotes.
        string json = JsonFormatter.Default.Format(time);
        return json.Substring(1, json.Length - 2);
    }
}
