namespace Rto.Client.Metrics;

/// <summary>The single exception type of <see cref="MetricsClient"/>: every failed call throws it.</summary>
public sealed class MetricsClientException : ClientException
{
    /// <summary>Creates an exception of kind <paramref name="errorKind"/>.</summary>
    public MetricsClientException(ClientErrorKind errorKind, string message, Exception? innerException = null)
        : base(errorKind, message, innerException)
    {
    }
}
