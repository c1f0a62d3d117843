namespace Rto.Client.Meters;

/// <summary>The single exception type of <see cref="MetersClient"/>: every failed connect or send throws it.</summary>
public sealed class MetersClientException : ClientException
{
    /// <summary>Creates an exception of kind <paramref name="errorKind"/>.</summary>
    public MetersClientException(ClientErrorKind errorKind, string message, Exception? innerException = null)
        : base(errorKind, message, innerException)
    {
    }
}
