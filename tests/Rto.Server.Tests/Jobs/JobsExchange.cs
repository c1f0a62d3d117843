using System.Net.Sockets;
using System.Text;

namespace Rto.Server.Tests.Jobs;

/// <summary>One request on its own connection, the way the original clients talk to the jobs endpoint.</summary>
internal static class JobsExchange
{
    public static async Task<string> OneShotAsync(TestServer server, string request)
    {
        await using RawConnection connection = await RawConnection.OpenAsync(server.JobsEndPoint);
        await connection.SendAsync(request);
        return await connection.ReadToEndAsync();
    }

    /// <summary>As <see cref="OneShotAsync(TestServer, string)"/>, waiting up to <paramref name="timeout"/> for a slow job (a Python worker on a loaded machine).</summary>
    public static async Task<string> OneShotAsync(TestServer server, string request, TimeSpan timeout)
    {
        using var client = new TcpClient { NoDelay = true };
        await client.ConnectAsync(server.JobsEndPoint).WaitAsync(timeout);
        await using NetworkStream stream = client.GetStream();
        await stream.WriteAsync(Encoding.UTF8.GetBytes(request)).AsTask().WaitAsync(timeout);
        using var reader = new StreamReader(stream, Encoding.UTF8);
        return await reader.ReadToEndAsync().WaitAsync(timeout);
    }
}
