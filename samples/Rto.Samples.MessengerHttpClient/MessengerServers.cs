using Google.Protobuf.WellKnownTypes;
using Grpc.Core;
using Grpc.Net.Client;
using Rto.Client;
using Rto.Client.Messenger;

namespace Rto.Samples.MessengerHttpClient;

/// <summary>
/// The messenger servers this client may use: one, or the nodes of one cluster
/// (<c>MESSENGER_SERVER_ADDR=node1:51075,node2:51075,node3:51075</c>). Calls go to the current
/// server; when it cannot be reached or answers <c>UNAVAILABLE</c> (it refused: nothing was
/// stored), the call moves on to the next one, trying each server once.
/// </summary>
/// <remarks>
/// A send that ends otherwise (a timeout, <c>DEADLINE_EXCEEDED</c>: the message may have been
/// stored) is not repeated elsewhere, so failing over never sends a message twice knowingly.
/// </remarks>
public sealed class MessengerServers : IDisposable
{
    private readonly GrpcChannel[] _channels;
    private readonly MessengerClient[] _clients;
    private int _current;

    /// <summary>Creates one client per address (no connection is made yet).</summary>
    public MessengerServers(IReadOnlyList<string> addresses, MessengerClientOptions options)
    {
        ArgumentNullException.ThrowIfNull(addresses);
        if (addresses.Count == 0)
        {
            throw new ArgumentException("At least one messenger server address is needed.", nameof(addresses));
        }

        _channels = [.. addresses.Select(address => MessengerClient.CreateChannel(GrpcAddress.Parse(address), options))];
        _clients = [.. _channels.Select(channel => new MessengerClient(channel, options))];
    }

    /// <summary>The server calls go to now.</summary>
    public Uri Address => Current.Address;

    /// <summary>Every server, in the order they are tried.</summary>
    public IEnumerable<Uri> Addresses => _clients.Select(c => c.Address);

    private MessengerClient Current => _clients[Volatile.Read(ref _current)];

    /// <summary>Splits <c>MESSENGER_SERVER_ADDR</c> at commas.</summary>
    public static string[] Split(string addresses) =>
        (addresses ?? "").Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);

    /// <summary>Sends through the current server, moving on while servers are unavailable.</summary>
    /// <exception cref="MessengerClientException">Every server was unavailable (the last one's error), or the send failed otherwise.</exception>
    public Task<Timestamp> SendAsync(string author, string text, CancellationToken cancellationToken) =>
        WithFailoverAsync(client => client.SendAsync(author, text, cancellationToken));

    /// <summary>Opens a message stream on the current server, moving on while servers are unavailable or slow to open.</summary>
    public Task<MessageSubscription> SubscribeAsync(CancellationToken cancellationToken) =>
        WithFailoverAsync(client => client.SubscribeAsync(cancellationToken), alsoOnTimeout: true);

    /// <summary>The stream of the current server broke: the next attempt starts with the next server.</summary>
    public void MoveOn(Uri failed) => MoveOn(Array.FindIndex(_clients, c => c.Address == failed));

    public void Dispose()
    {
        foreach (GrpcChannel channel in _channels)
        {
            channel.Dispose();
        }
    }

    private async Task<T> WithFailoverAsync<T>(Func<MessengerClient, Task<T>> call, bool alsoOnTimeout = false)
    {
        for (int tried = 1; ; tried++)
        {
            int index = Volatile.Read(ref _current);
            try
            {
                return await call(_clients[index]);
            }
            catch (MessengerClientException ex) when (tried < _clients.Length
                && (ex.StatusCode == StatusCode.Unavailable || (alsoOnTimeout && ex.ErrorKind == ClientErrorKind.Timeout)))
            {
                MoveOn(index);
            }
        }
    }

    private void MoveOn(int failed)
    {
        if (failed >= 0)
        {
            // Only the first caller to see a server fail moves on; others already use the next one.
            Interlocked.CompareExchange(ref _current, (failed + 1) % _clients.Length, failed);
        }
    }
}
