namespace Rto.Client.Meters;

/// <summary>Why a <see cref="MeterClient"/> call failed.</summary>
public enum MeterClientError
{
    /// <summary>The connection could not be made (refused, unreachable, name not resolved).</summary>
    ConnectFailed,

    /// <summary>The connection could not be made within the connect timeout.</summary>
    Timeout,

    /// <summary>The server closed or reset the connection; readings not yet sent are lost.</summary>
    ConnectionLost,
}

/// <summary>The single exception type of <see cref="MeterClient"/>: every failed connect or send throws it.</summary>
public sealed class MeterClientException : Exception
{
    /// <summary>Creates an exception for <paramref name="error"/>.</summary>
    public MeterClientException(MeterClientError error, string message, Exception? innerException = null)
        : base(message, innerException)
    {
        Error = error;
    }

    /// <summary>What went wrong.</summary>
    public MeterClientError Error { get; }
}
