using System.Net;
using Microsoft.AspNetCore.Connections;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rto.Server.Endpoints;

/// <summary>
/// The one way a capability listens: on the address of its options, held to its connection limit,
/// every endpoint recorded in <see cref="ServerEndpoints"/> (banner, instruments, connection log
/// scope) before it is served. The kernel hands one to a capability's <c>Listen…</c> method, only
/// when the capability is enabled and its options are valid.
/// </summary>
internal sealed class EndpointListener
{
    private readonly KestrelServerOptions _kestrel;
    private readonly ServerEndpoints _endpoints;
    private readonly string _section;
    private readonly EndpointOptions _options;
    private readonly IPAddress _address;

    internal EndpointListener(KestrelServerOptions kestrel, ServerEndpoints endpoints, string section, EndpointOptions options)
    {
        _kestrel = kestrel;
        _endpoints = endpoints;
        _section = section;
        _options = options;
        _address = options.ParseAddress(section);
    }

    /// <summary>
    /// A raw TCP endpoint on the capability's port, each connection served by <typeparamref name="THandler"/>
    /// under the idle and frame time limits of the capability's <see cref="TcpEndpointOptions"/>.
    /// </summary>
    public void ListenTcp<THandler>(string name, string description)
        where THandler : TcpConnectionHandler
    {
        TcpLimits limits = _options is TcpEndpointOptions tcp
            ? TcpLimits.From(tcp)
            : throw new InvalidOperationException($"{_section} serves raw TCP, so its options must derive from {nameof(TcpEndpointOptions)}.");
        Listen(name, description, _options.Port, listen =>
        {
            // What UseConnectionHandler does, with the limits handed to the one handler of this endpoint.
            THandler handler = ActivatorUtilities.GetServiceOrCreateInstance<THandler>(listen.ApplicationServices);
            handler.Limits = limits;
            listen.Run(handler.OnConnectedAsync);
        });
    }

    /// <summary>
    /// An HTTP endpoint: <see cref="HttpProtocols.Http2"/> (plaintext, prior knowledge, as gRPC clients
    /// and <c>grpcurl -plaintext</c> expect) or <see cref="HttpProtocols.Http1"/>; on the capability's
    /// port unless <paramref name="port"/> names another of its settings. Kestrel's own limits
    /// (<c>Kestrel:Limits</c>) apply to what arrives.
    /// </summary>
    public void ListenHttp(string name, string description, HttpProtocols protocols, int? port = null) =>
        Listen(name, description, port ?? _options.Port, listen => listen.Protocols = protocols);

    private void Listen(string name, string description, int port, Action<ListenOptions> serve) =>
        _kestrel.Listen(_address, port, listen =>
        {
            // First: the connection limit and observation must stand in front of whatever serves the connection.
            _endpoints.Add(name, description, listen, _options.MaxConnections);
            serve(listen);
        });
}
