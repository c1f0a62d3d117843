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
}
