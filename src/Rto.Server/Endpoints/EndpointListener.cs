using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rto.Server.Endpoints;

/// <summary>
/// The one way a capability listens: on the address of its options, every endpoint recorded in
/// <see cref="ServerEndpoints"/> (banner, instruments, connection log scope) before it is served.
/// The kernel hands one to a capability's <c>Listen…</c> method, only when the capability is enabled
/// and its options are valid.
/// </summary>
internal sealed class EndpointListener
{
    private readonly KestrelServerOptions _kestrel;
    private readonly ServerEndpoints _endpoints;
    private readonly IPAddress _address;
    private readonly int _port;

    internal EndpointListener(KestrelServerOptions kestrel, ServerEndpoints endpoints, IPAddress address, int port)
    {
        _kestrel = kestrel;
        _endpoints = endpoints;
        _address = address;
        _port = port;
    }

    /// <summary>A raw TCP endpoint on the capability's port, each connection served by <typeparamref name="THandler"/>.</summary>
    public void ListenTcp<THandler>(string name, string description)
        where THandler : ConnectionHandler =>
        Listen(name, description, _port, listen => listen.UseConnectionHandler<THandler>());

    /// <summary>
    /// An HTTP endpoint: <see cref="HttpProtocols.Http2"/> (plaintext, prior knowledge, as gRPC clients
    /// and <c>grpcurl -plaintext</c> expect) or <see cref="HttpProtocols.Http1"/>; on the capability's
    /// port unless <paramref name="port"/> names another of its settings.
    /// </summary>
    public void ListenHttp(string name, string description, HttpProtocols protocols, int? port = null) =>
        Listen(name, description, port ?? _port, listen => listen.Protocols = protocols);

    private void Listen(string name, string description, int port, Action<ListenOptions> serve) =>
        _kestrel.Listen(_address, port, listen =>
        {
            // First: the connection observation must stand in front of whatever serves the connection.
            _endpoints.Add(name, description, listen);
            serve(listen);
        });
}
