using System.Net;
using System.Net.Sockets;
using System.Text;

namespace Rto.Server.Tests;

/// <summary>A plain TCP connection for asserting the exact bytes a server sends.</summary>
internal sealed class RawConnection : IAsyncDisposable
{
    private static readonly TimeSpan s_timeout = TimeSpan.FromSeconds(15);
    private readonly TcpClient _client;
    private readonly NetworkStream _stream;

    private RawConnection(TcpClient client)
    {
        _client = client;
        _stream = client.GetStream();
    }

    public static async Task<RawConnection> OpenAsync(IPEndPoint endPoint)
    {
        var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(endPoint).WaitAsync(s_timeout);
        return new RawConnection(client);
    }

    /// <summary>The client side of the connection, as the server sees the remote end.</summary>
    public System.Net.EndPoint? LocalEndPoint => _client.Client.LocalEndPoint;

    public Task SendAsync(string text) => SendAsync(Encoding.UTF8.GetBytes(text));

    public async Task SendAsync(byte[] bytes)
    {
        await _stream.WriteAsync(bytes).AsTask().WaitAsync(s_timeout);
        await _stream.FlushAsync();
    }

    /// <summary>Reads exactly as many bytes as <paramref name="expected"/> has and asserts they are equal.</summary>
    public async Task ExpectAsync(string expected)
    {
        byte[] received = await ReceiveAsync(Encoding.UTF8.GetByteCount(expected));
        Assert.AreEqual(expected, Encoding.UTF8.GetString(received));
    }

    public async Task<byte[]> ReceiveAsync(int count)
    {
        byte[] buffer = new byte[count];
        await _stream.ReadExactlyAsync(buffer).AsTask().WaitAsync(s_timeout);
        return buffer;
    }

    /// <summary>Sends <paramref name="request"/> and asserts the reply is exactly <paramref name="expected"/>.</summary>
    public async Task RoundTripAsync(string request, string expected)
    {
        await SendAsync(request);
        await ExpectAsync(expected);
    }

    /// <summary>Reads everything until the server closes the connection.</summary>
    public async Task<string> ReadToEndAsync()
    {
        using var received = new MemoryStream();
        await _stream.CopyToAsync(received).WaitAsync(s_timeout);
        return Encoding.UTF8.GetString(received.ToArray());
    }

    /// <summary>True when the server closed the connection (reads end of stream).</summary>
    public async Task<bool> IsClosedByServerAsync()
    {
        byte[] one = new byte[1];
        try
        {
            return await _stream.ReadAsync(one).AsTask().WaitAsync(s_timeout) == 0;
        }
        catch (IOException)
        {
            return true;
        }
    }

    public ValueTask DisposeAsync()
    {
        _client.Dispose();
        return ValueTask.CompletedTask;
    }
}
