using Rto.Server.Endpoints;
using Rto.Server.Storage;

namespace Rto.Server.Meters;

/// <summary>Options of the meter readings endpoint, store, power calculator and HTTP API (configuration section <c>Meters</c>).</summary>
/// <remarks>
/// Idle timeout: an hour, as for metrics: a meter streams readings, and one silent for an hour is
/// unplugged or broken (the original meters do not reconnect on a close, so the server must not
/// close a merely slow one). The idle and frame timeouts hold for the readings endpoint; the HTTP
/// port is held to Kestrel's limits.
/// </remarks>
public sealed class MetersOptions() : TcpEndpointOptions(44444, defaultIdleTimeout: TimeSpan.FromHours(1))
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Meters";

    /// <summary>The HTTP/1.1 port serving <c>/meters/...</c> JSON queries; 0 picks a free one, -1 disables it.</summary>
    public int HttpPort { get; set; } = 8090;

    /// <summary>The longest reading line accepted, in bytes; longer lines are rejected as malformed.</summary>
    public int MaxLineLength { get; set; } = 256;

    /// <summary>The meter registry file; relative paths are resolved against the current directory, the default ships with the server.</summary>
    public string RegistryPath { get; set; } = Path.Combine(AppContext.BaseDirectory, "meters.tsv");

    /// <summary>Where <c>readings.log</c> and <c>power.log</c> are appended.</summary>
    public string DataDirectory { get; set; } = "data/meters";

    /// <summary>Where the server keeps <c>power.png</c> up to date while it runs.</summary>
    public string PlotDirectory { get; set; } = "plots";

    /// <summary>The size of rendered charts in pixels.</summary>
    public int PlotWidth { get; set; } = 1000;

    /// <summary>The height of rendered charts in pixels.</summary>
    public int PlotHeight { get; set; } = 500;

    /// <summary>How many of the latest valid readings are kept in memory per meter.</summary>
    public int WindowSize { get; set; } = 10_000;

    /// <summary>How often power is computed.</summary>
    public TimeSpan PowerInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>The largest time difference between a voltage and a current reading paired into a power point.</summary>
    public TimeSpan PowerMaxTimeDifference { get; set; } = TimeSpan.FromMilliseconds(500);

    /// <summary>How many power points are kept in memory.</summary>
    public int PowerHistory { get; set; } = 10_000;

    /// <summary><c>readings.log</c> is renamed to <c>readings.1.log</c> (older ones shifted up) once it reaches this size.</summary>
    public long ReadingsLogMaxBytes { get; set; } = 256L * 1024 * 1024;

    /// <summary>How many rotated reading logs are kept beside the active one; older ones are deleted.</summary>
    public int ReadingsLogFilesKept { get; set; } = 4;

    /// <summary>
    /// When <c>readings.log</c> and <c>power.log</c> are fsync'ed. Every received batch of readings
    /// reaches the OS before it is counted as accepted whatever the policy, so a killed server loses
    /// nothing it counted; the policy decides what a power loss can lose.
    /// </summary>
    public FsyncPolicy Fsync { get; set; } = FsyncPolicy.Interval;

    /// <summary>How often the logs are fsync'ed under <see cref="FsyncPolicy.Interval"/>.</summary>
    public TimeSpan FsyncInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>
    /// How long the registry file must stay unchanged before it is reloaded: editors save in several
    /// steps (truncate, write, rename) and each step raises a change event.
    /// </summary>
    public TimeSpan RegistryReloadDelay { get; set; } = TimeSpan.FromMilliseconds(300);

    protected override void ValidateSettings()
    {
        CheckPort(SectionName, nameof(HttpPort), HttpPort, lowest: -1);

        if (MaxLineLength < 48)
        {
            throw new InvalidOperationException($"Meters:MaxLineLength must be at least 48 bytes, not {MaxLineLength}.");
        }

        if (PlotWidth is < 100 or > 8000 || PlotHeight is < 100 or > 8000)
        {
            throw new InvalidOperationException("Meters:PlotWidth and Meters:PlotHeight must be between 100 and 8000 pixels.");
        }

        if (WindowSize < 1 || PowerHistory < 1)
        {
            throw new InvalidOperationException("Meters:WindowSize and Meters:PowerHistory must be at least 1.");
        }

        if (PowerInterval <= TimeSpan.Zero || PowerMaxTimeDifference < TimeSpan.Zero)
        {
            throw new InvalidOperationException("Meters:PowerInterval must be positive and Meters:PowerMaxTimeDifference not negative.");
        }

        if (ReadingsLogMaxBytes < 4096 || ReadingsLogFilesKept < 0)
        {
            throw new InvalidOperationException("Meters:ReadingsLogMaxBytes must be at least 4096 and Meters:ReadingsLogFilesKept not negative.");
        }

        if ((Fsync == FsyncPolicy.Interval && FsyncInterval <= TimeSpan.Zero) || RegistryReloadDelay < TimeSpan.Zero)
        {
            throw new InvalidOperationException("Meters:FsyncInterval must be positive and Meters:RegistryReloadDelay not negative.");
        }

        if (string.IsNullOrWhiteSpace(DataDirectory) || string.IsNullOrWhiteSpace(RegistryPath))
        {
            throw new InvalidOperationException("Meters:DataDirectory and Meters:RegistryPath must be set.");
        }
    }
}
