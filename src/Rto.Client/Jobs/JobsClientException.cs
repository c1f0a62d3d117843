namespace Rto.Client.Jobs;

/// <summary>
/// The single exception type of <see cref="JobsClient"/>: a request failed in transport (no
/// connection, no reply in time, a reply that is not the protocol's). A reply whose
/// <c>Status</c> is <c>error</c> is returned, not thrown.
/// </summary>
public sealed class JobsClientException : ClientException
{
    /// <summary>Creates an exception of kind <paramref name="errorKind"/>.</summary>
    public JobsClientException(ClientErrorKind errorKind, string message, Exception? innerException = null)
        : base(errorKind, message, innerException)
    {
    }
}
