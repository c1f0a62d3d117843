using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rto.Server.Tests;

/// <summary>
/// Accepts connections and answers every received chunk with a fixed reply, or never; or closes
/// the connection once something arrived. For client tests of replies a real server never sends.
/// </summary>
internal sealed class FakeServer : IAsyncDisposable
{
    private readonly TcpListener _listener = new(IPAddress.Loopback, 0);
    private readonly CancellationTokenSource _stop = new();
    private readonly List<TcpClient> _accepted = [];
    private Task _loop = Task.CompletedTask;

    public IPEndPoint EndPoint => (IPEndPoint)_listener.LocalEndpoint;

    public static FakeServer Start(string? reply, bool closeOnRequest = false)
    {
        var fake = new FakeServer();
        fake._listener.Start();
        fake._loop = fake.ServeAsync(reply, closeOnRequest);
        return fake;
    }

    public async ValueTask DisposeAsync()
    {
        await _stop.CancelAsync();
        _listener.Stop();
        try
        {
            await _loop;
        }
        catch (Exception ex) when (ex is OperationCanceledException or SocketException or IOException)
        {
            // Stopped.
        }

        foreach (TcpClient client in _accepted)
        {
            client.Dispose();
        }

        _stop.Dispose();
    }

    private async Task ServeAsync(string? reply, bool closeOnRequest)
    {
        while (!_stop.IsCancellationRequested)
        {
            TcpClient client = await _listener.AcceptTcpClientAsync(_stop.Token);
            _accepted.Add(client);
            _ = Task.Run(async () =>
            {
                NetworkStream stream = client.GetStream();
                byte[] buffer = new byte[4096];
                while (await stream.ReadAsync(buffer, _stop.Token) > 0)
                {
                    if (closeOnRequest)
                    {
                        client.Client.Shutdown(SocketShutdown.Both);
                        return;
                    }

                    if (reply is not null)
                    {
                        await stream.WriteAsync(Encoding.UTF8.GetBytes(reply), _stop.Token);
                    }
                }
            });
        }
    }
}
