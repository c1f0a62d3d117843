namespace Rto.Client.Meters;

/// <summary>Settings of a <see cref="MetersClient"/>.</summary>
public sealed class MetersClientOptions
{
    /// <summary>How long connecting may take. Default 10 s.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(10);
}
