namespace Rto.Client.Metrics;

/// <summary>Why a metrics call failed.</summary>
public enum MetricsClientError
{
    /// <summary>The server answered with an error reply (the request was malformed).</summary>
    ServerError,

    /// <summary>The server's reply could not be understood.</summary>
    MalformedResponse,

    /// <summary>No reply (or no connection) within the configured timeout.</summary>
    Timeout,

    /// <summary>The connection could not be made, or was lost before the reply arrived.</summary>
    ConnectionLost,
}

/// <summary>The single exception type of <see cref="MetricsClient"/>: every failed call throws it.</summary>
public sealed class MetricsClientException : Exception
{
    /// <summary>Creates an exception for <paramref name="error"/>.</summary>
    public MetricsClientException(MetricsClientError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    /// <summary>What went wrong.</summary>
    public MetricsClientError Error { get; }
}
