namespace Rto.Client.Messenger;

/// <summary>Settings of a <see cref="MessengerClient"/>.</summary>
public sealed class MessengerClientOptions
{
    /// <summary>How long connecting may take. Default 5 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>The deadline of one <see cref="MessengerClient.SendAsync"/>. Default 5 s.</summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long <see cref="MessengerClient.SubscribeAsync"/> may wait for the server to open the stream. Default 5 s.</summary>
    public TimeSpan OpenTimeout { get; set; } = TimeSpan.FromSeconds(5);
}
