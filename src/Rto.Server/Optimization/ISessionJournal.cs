namespace Rto.Server.Optimization;

/// <summary>
/// Where a session writes its state changes, one line each (the session file's format): the file on
/// a single node, JetStream in a cluster.
/// </summary>
internal interface ISessionJournal
{
    /// <summary>Records one line (ending with a newline), called under the session's lock.</summary>
    void Append(string line);

    /// <summary>Removes everything recorded (the session was stopped).</summary>
    void Delete();

    /// <summary>Every record written so far, to rebuild the session after a failed call.</summary>
    /// <exception cref="IOException">The records cannot be read here.</exception>
    List<SessionRecord> ReadRecords();
}

/// <summary>
/// A cluster session's journal: lines wait here until the node has stored them in JetStream,
/// which it does before it answers the call that made them (a lock-held append cannot await).
/// </summary>
internal sealed class PendingJournal : ISessionJournal
{
    private readonly Lock _lock = new();
    private string _pending = "";

    public void Append(string line)
    {
        lock (_lock)
        {
            _pending += line;
        }
    }

    public void Delete()
    {
        lock (_lock)
        {
            _pending = "";
        }
    }

    /// <summary>
    /// A cluster session is rebuilt from JetStream instead: the node drops its copy after a failed
    /// call and reads the session again at the next one.
    /// </summary>
    public List<SessionRecord> ReadRecords() =>
        throw new IOException("the session's records are in JetStream; this node reads the session again at its next call");

    /// <summary>The lines appended since the last call, as one text ("" for none).</summary>
    public string Take()
    {
        lock (_lock)
        {
            string pending = _pending;
            _pending = "";
            return pending;
        }
    }
}
