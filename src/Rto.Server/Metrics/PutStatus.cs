namespace Rto.Server.Metrics;

/// <summary>What became of a put.</summary>
internal enum PutStatus
{
    Stored,

    /// <summary>The store holds <see cref="MetricsOptions.MaxMemory"/> or more: puts are refused, nothing is evicted.</summary>
    OverMemoryLimit,

    /// <summary>The point is older than its series' newest point minus <see cref="MetricsOptions.Retention"/>.</summary>
    OutsideRetention,
}

/// <summary>The error replies of refused puts, in the protocol's <c>error\n&lt;message&gt;\n\n</c> shape.</summary>
internal static class PutRefusal
{
    /// <summary>Worded after Redis' <c>-OOM command not allowed when used memory &gt; 'maxmemory'</c>, which operators grep for.</summary>
    public static ReadOnlySpan<byte> OverMemoryLimit => "error\nOOM command not allowed when used memory > 'Metrics:MaxMemory'\n\n"u8;

    public static ReadOnlySpan<byte> OutsideRetention => "error\npoint older than the retention window 'Metrics:Retention'\n\n"u8;

    public static ReadOnlySpan<byte> Reply(PutStatus status) => status == PutStatus.OverMemoryLimit ? OverMemoryLimit : OutsideRetention;
}
