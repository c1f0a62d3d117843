using System.Net;
using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rto.Server.Hosting;

/// <summary>
/// The endpoints the server listens on. Kestrel fills in the real port of a port-0 endpoint
/// when it binds, so after start-up <see cref="GetEndPoint"/> tells where each one ended up.
/// </summary>
public sealed class RtoEndpoints
{
    private readonly List<(string Name, string Description, ListenOptions Listen)> _endpoints = [];

    internal void Add(string name, string description, ListenOptions listen) => _endpoints.Add((name, description, listen));

    /// <summary>The names of the configured endpoints, in the order they were added.</summary>
    public IEnumerable<string> Names => _endpoints.Select(e => e.Name);

    /// <summary>The bound address of the endpoint named <paramref name="name"/> (e.g. <c>metrics</c>).</summary>
    public IPEndPoint GetEndPoint(string name)
    {
        foreach ((string n, _, ListenOptions listen) in _endpoints)
        {
            if (n == name)
            {
                return listen.IPEndPoint ?? throw new InvalidOperationException($"Endpoint '{name}' is not an IP endpoint.");
            }
        }

        throw new InvalidOperationException($"No endpoint named '{name}' is configured.");
    }

    internal void LogBanner(ILogger logger)
    {
        foreach ((string name, string description, ListenOptions listen) in _endpoints)
        {
            logger.LogInformation("{Endpoint} endpoint ({Description}) listening on tcp://{Address}", name, description, listen.IPEndPoint);
        }

        logger.LogInformation("Rto server started; press Ctrl+C to stop");
    }
}
