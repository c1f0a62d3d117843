using Microsoft.Extensions.Diagnostics.HealthChecks;
using Microsoft.Extensions.Options;

namespace Rto.Server.Storage;

/// <summary>
/// The free-disk threshold every capability's health entry applies to its data directory. It is
/// set in the <c>Health</c> section, beside the health endpoint, where an operator looks for it.
/// </summary>
public sealed class DiskSpaceOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Health";

    /// <summary>Below this much free disk space under a data directory the server reports itself degraded.</summary>
    public long MinFreeDiskBytes { get; set; } = 1L << 30;
}

/// <summary>Free space under a data directory: degraded below <see cref="DiskSpaceOptions.MinFreeDiskBytes"/>, unhealthy below 64 MiB.</summary>
internal sealed class DiskSpace(IOptions<DiskSpaceOptions> options)
{
    private const long UnhealthyBelow = 64L << 20;

    /// <summary>
    /// Checks the file system holding <paramref name="directory"/>; the result carries
    /// <c>freeBytes</c> in its data and, when not healthy, says which directory is short.
    /// </summary>
    public HealthCheckResult Check(string directory, string healthyDescription)
    {
        string path = Path.GetFullPath(directory);
        long free = FreeBytes(path);
        var data = new Dictionary<string, object> { ["freeBytes"] = free };
        HealthStatus status = free < UnhealthyBelow ? HealthStatus.Unhealthy : free < options.Value.MinFreeDiskBytes ? HealthStatus.Degraded : HealthStatus.Healthy;
        string description = status == HealthStatus.Healthy ? healthyDescription : $"the data directory {path} has {free >> 20} MiB free";
        return new HealthCheckResult(status, description, data: data);
    }

    /// <summary>Free space of the file system holding <paramref name="path"/>, which need not exist yet (stores create their folders lazily).</summary>
    private static long FreeBytes(string path)
    {
        DirectoryInfo? existing = new(path);
        while (existing is { Exists: false })
        {
            existing = existing.Parent;
        }

        return new DriveInfo(existing?.FullName ?? Path.GetPathRoot(path)!).AvailableFreeSpace;
    }
}
