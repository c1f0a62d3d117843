namespace Rto.Protocols;

/// <summary>What an <see cref="IMessageReader{TMessage}"/> found in the frame it took.</summary>
public enum MessageStatus
{
    /// <summary>The value of a default (never read) message; readers do not return it.</summary>
    None,

    /// <summary>A complete, valid message.</summary>
    Valid,

    /// <summary>A complete frame whose content is not a valid message; the reader has consumed it.</summary>
    Malformed,

    /// <summary>
    /// A frame longer than the reader's maximum. Its bytes are never buffered: line protocols skip
    /// them up to the next line; the protocol says whether the connection can go on.
    /// </summary>
    TooLarge,
}
