using Rto.Server.Endpoints;

namespace Rto.Server.Health;

/// <summary>Settings of the HTTP health endpoint (section <c>Health</c>; its free-disk threshold is <see cref="Storage.DiskSpaceOptions"/>).</summary>
public sealed class HealthOptions() : EndpointOptions(8091)
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Health";
}
