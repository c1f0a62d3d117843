using System.Globalization;

namespace Rto.Server.Cluster;

/// <summary>How the connection to NATS uses TLS (<c>Cluster:TlsMode</c>); the NATS client's modes.</summary>
public enum ClusterTlsMode
{
    /// <summary>TLS when the URL says <c>tls://</c>, a CA or client certificate is set, or the server asks for it.</summary>
    Auto,

    /// <summary>TLS when the server offers it, else plaintext.</summary>
    Prefer,

    /// <summary>TLS always (after the server's INFO); a server without TLS is refused.</summary>
    Require,

    /// <summary>TLS from the first byte (servers behind a TLS-terminating proxy).</summary>
    Implicit,

    /// <summary>Never TLS.</summary>
    Disable,
}

/// <summary>
/// Cluster mode (configuration section <c>Cluster</c>). Without <see cref="Nats"/> the server is a
/// single node and nothing here is used; with it, the node connects to NATS JetStream on start and
/// every capability that has a cluster behaviour switches to it (docs/cluster.md).
/// </summary>
public sealed class ClusterOptions
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Cluster";

    /// <summary>The NATS servers: one or more <c>nats://host:port</c> (or <c>tls://</c>) URLs, comma-separated. Empty: single node.</summary>
    public string? Nats { get; set; }

    /// <summary>Replicas of every stream and bucket the node creates (1 for a single nats-server; at most 5).</summary>
    public int Replicas { get; set; } = 3;

    /// <summary>
    /// This node's name in the cluster (NATS connection name, message ids, later leases and job
    /// owners). Default: the host name and the process id, unique among the nodes running now.
    /// </summary>
    public string? NodeName { get; set; }

    /// <summary>A NATS credentials file (user JWT and NKey seed), as <c>nsc</c> writes it.</summary>
    public string? CredsFile { get; set; }

    /// <summary>A file holding an NKey seed (<c>SU…</c>) to sign the server's challenge with.</summary>
    public string? NKeyFile { get; set; }

    /// <summary>User name for user/password authentication.</summary>
    public string? User { get; set; }

    /// <summary>Password for <see cref="User"/>.</summary>
    public string? Password { get; set; }

    /// <summary>Token authentication.</summary>
    public string? Token { get; set; }

    /// <summary>How the connection uses TLS.</summary>
    public ClusterTlsMode TlsMode { get; set; } = ClusterTlsMode.Auto;

    /// <summary>PEM file of the CA that signed the NATS servers' certificates (else the system's trust store).</summary>
    public string? TlsCaFile { get; set; }

    /// <summary>PEM client certificate, for servers that verify clients (with <see cref="TlsKeyFile"/>).</summary>
    public string? TlsCertFile { get; set; }

    /// <summary>PEM private key of <see cref="TlsCertFile"/>.</summary>
    public string? TlsKeyFile { get; set; }

    /// <summary>How long one attempt to connect to a NATS server may take.</summary>
    public TimeSpan ConnectTimeout { get; set; } = TimeSpan.FromSeconds(2);

    /// <summary>
    /// How long the node waits for JetStream to confirm one operation (a publish acknowledgement,
    /// a stream request) before it answers its own client with an error.
    /// </summary>
    public TimeSpan RequestTimeout { get; set; } = TimeSpan.FromSeconds(5);

    /// <summary>How long the start may wait for NATS to be reachable and JetStream to have quorum; then the start fails.</summary>
    public TimeSpan StartTimeout { get; set; } = TimeSpan.FromSeconds(60);

    /// <summary>How often the node checks that JetStream has quorum (the <c>cluster</c> health entry and the refusals follow it).</summary>
    public TimeSpan ProbeInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Whether cluster mode is on.</summary>
    internal bool IsEnabled => !string.IsNullOrWhiteSpace(Nats);

    /// <summary>The NATS URLs, trimmed.</summary>
    internal IReadOnlyList<Uri> Servers =>
        [.. (Nats ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(url => new Uri(url))];

    /// <summary><see cref="NodeName"/>, or the default one.</summary>
    internal string EffectiveNodeName =>
        string.IsNullOrWhiteSpace(NodeName) ? DefaultNodeName() : NodeName.Trim();

    /// <summary>Throws <see cref="InvalidOperationException"/> naming the first bad setting.</summary>
    internal void Validate()
    {
        string[] urls = (Nats ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        foreach (string url in urls)
        {
            if (!Uri.TryCreate(url, UriKind.Absolute, out Uri? uri) || uri.Scheme is not ("nats" or "tls" or "ws" or "wss") || uri.Port <= 0)
            {
                throw new InvalidOperationException($"Cluster:Nats '{url}' is not a NATS URL (nats://host:port or tls://host:port; several separated by commas).");
            }
        }

        if (Replicas is < 1 or > 5)
        {
            throw new InvalidOperationException($"Cluster:Replicas must be between 1 and 5 (JetStream's limit), not {Replicas}.");
        }

        string node = EffectiveNodeName;
        if (node.Length > 64 || node.Any(c => !(char.IsAsciiLetterOrDigit(c) || c is '-' or '_')))
        {
            throw new InvalidOperationException($"Cluster:NodeName '{node}' must be at most 64 letters, digits, '-' or '_' (it becomes part of NATS names).");
        }

        if (!string.IsNullOrEmpty(Password) && string.IsNullOrEmpty(User))
        {
            throw new InvalidOperationException("Cluster:Password is set without Cluster:User.");
        }

        int methods = (string.IsNullOrEmpty(User) ? 0 : 1) + (string.IsNullOrEmpty(Token) ? 0 : 1) + (string.IsNullOrEmpty(CredsFile) ? 0 : 1) + (string.IsNullOrEmpty(NKeyFile) ? 0 : 1);
        if (methods > 1)
        {
            throw new InvalidOperationException("Set only one of Cluster:User, Cluster:Token, Cluster:CredsFile and Cluster:NKeyFile.");
        }

        if (string.IsNullOrEmpty(TlsCertFile) != string.IsNullOrEmpty(TlsKeyFile))
        {
            throw new InvalidOperationException("Cluster:TlsCertFile and Cluster:TlsKeyFile go together.");
        }

        if (!Enum.IsDefined(TlsMode))
        {
            throw new InvalidOperationException($"Cluster:TlsMode must be one of {string.Join(", ", Enum.GetNames<ClusterTlsMode>())}, not {TlsMode}.");
        }

        CheckFile(nameof(CredsFile), CredsFile);
        CheckFile(nameof(NKeyFile), NKeyFile);
        CheckFile(nameof(TlsCaFile), TlsCaFile);
        CheckFile(nameof(TlsCertFile), TlsCertFile);
        CheckFile(nameof(TlsKeyFile), TlsKeyFile);
        CheckPositive(nameof(ConnectTimeout), ConnectTimeout);
        CheckPositive(nameof(RequestTimeout), RequestTimeout);
        CheckPositive(nameof(StartTimeout), StartTimeout);
        CheckPositive(nameof(ProbeInterval), ProbeInterval);
    }

    private static string DefaultNodeName()
    {
        string host = new([.. Environment.MachineName.Where(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_')]);
        return string.Create(CultureInfo.InvariantCulture, $"{(host.Length == 0 ? "rto" : host[..Math.Min(host.Length, 48)])}-{Environment.ProcessId}");
    }

    private static void CheckFile(string setting, string? path)
    {
        if (!string.IsNullOrEmpty(path) && !File.Exists(path))
        {
            throw new InvalidOperationException($"Cluster:{setting} '{path}' does not exist.");
        }
    }

    private static void CheckPositive(string setting, TimeSpan value)
    {
        if (value <= TimeSpan.Zero)
        {
            throw new InvalidOperationException($"Cluster:{setting} must be positive, not {value}.");
        }
    }
}
