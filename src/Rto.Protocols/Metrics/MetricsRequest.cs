namespace Rto.Protocols.Metrics;

/// <summary>The command of a metrics request line.</summary>
public enum MetricsCommand
{
    /// <summary><c>put &lt;key&gt; &lt;value&gt; &lt;timestamp&gt;</c>: store one point.</summary>
    Put,

    /// <summary><c>get &lt;key&gt;</c>: all points of one key.</summary>
    Get,

    /// <summary><c>get *</c>: all points of all keys.</summary>
    GetAll,
}

/// <summary>
/// One request line, as <see cref="MetricsRequestReader"/> or <see cref="MetricsRequestParser"/>
/// read it. <see cref="Key"/> points into the line, so the request is only valid while that
/// line's bytes are.
/// </summary>
public readonly ref struct MetricsRequest
{
    internal MetricsRequest(MetricsCommand command, ReadOnlySpan<byte> key, double value, long timestamp)
    {
        Status = MessageStatus.Valid;
        Command = command;
        Key = key;
        Value = value;
        Timestamp = timestamp;
    }

    internal MetricsRequest(MessageStatus rejected)
    {
        Status = rejected;
    }

    /// <summary>
    /// <see cref="MessageStatus.Valid"/>, or why the line is not a request: it is
    /// <see cref="MessageStatus.Malformed"/> or longer than the maximum
    /// (<see cref="MessageStatus.TooLarge"/>). Either is answered with
    /// <see cref="MetricsResponseWriter.Error"/>, and the connection goes on. The other members
    /// are meaningful only for a valid request.
    /// </summary>
    public MessageStatus Status { get; }

    /// <summary>What the client asked for.</summary>
    public MetricsCommand Command { get; }

    /// <summary>The metric key as UTF-8 bytes (empty for <see cref="MetricsCommand.GetAll"/>).</summary>
    public ReadOnlySpan<byte> Key { get; }

    /// <summary>The value of a <see cref="MetricsCommand.Put"/>; always finite.</summary>
    public double Value { get; }

    /// <summary>The Unix timestamp in seconds of a <see cref="MetricsCommand.Put"/>; never negative.</summary>
    public long Timestamp { get; }
}
