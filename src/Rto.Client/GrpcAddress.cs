namespace Rto.Client;

/// <summary>
/// Addresses of the server's gRPC endpoints (messenger, optimization), the one place the gRPC
/// clients and the samples turn host names, ports and <c>host:port</c> settings into URLs.
/// </summary>
public static class GrpcAddress
{
    /// <summary><c>http://host:port</c>: plaintext HTTP/2, as the server listens. IPv6 literals are bracketed.</summary>
    /// <exception cref="ArgumentException"><paramref name="host"/> is empty.</exception>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="port"/> is not a TCP port.</exception>
    public static Uri Create(string host, int port)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(host);
        ArgumentOutOfRangeException.ThrowIfNegative(port);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(port, 65535);
        return new UriBuilder(Uri.UriSchemeHttp, host.Trim(), port).Uri;
    }

    /// <summary>
    /// Turns <c>host:port</c> (plaintext, as in <c>MESSENGER_SERVER_ADDR</c>) into
    /// <c>http://host:port</c>; a URL with an <c>http</c> or <c>https</c> scheme is used as it is.
    /// </summary>
    /// <exception cref="ArgumentException"><paramref name="address"/> is not such an address.</exception>
    public static Uri Parse(string address)
    {
        ArgumentException.ThrowIfNullOrWhiteSpace(address);
        string text = address.Trim();
        if (!text.Contains("://", StringComparison.Ordinal))
        {
            text = "http://" + text;
        }

        if (!Uri.TryCreate(text, UriKind.Absolute, out Uri? uri) || (uri.Scheme != Uri.UriSchemeHttp && uri.Scheme != Uri.UriSchemeHttps))
        {
            throw new ArgumentException($"'{address}' is not a gRPC server address (host:port or http://host:port).", nameof(address));
        }

        return uri;
    }
}
