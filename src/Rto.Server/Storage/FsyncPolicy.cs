namespace Rto.Server.Storage;

/// <summary>When a store's append-only log is forced to disk with fsync (the <c>Fsync</c> setting of metrics and meters).</summary>
public enum FsyncPolicy
{
    /// <summary>
    /// fsync before every acknowledgement: an acknowledged write survives a power loss. Slowest.
    /// </summary>
    Always,

    /// <summary>
    /// fsync every <c>FsyncInterval</c> of the store's options in the background. An acknowledged
    /// write is always written to the OS first and survives a crash of the server process; a power
    /// loss can lose up to one interval.
    /// </summary>
    Interval,

    /// <summary>Never fsync explicitly; the OS writes the log back when it chooses.</summary>
    Never,
}
