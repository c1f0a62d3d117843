using Microsoft.AspNetCore.Connections;
using Rto.Server.Hosting;

// Socket completions run on the runtime's I/O threads instead of first hopping to the thread pool,
// so a received request reaches Kestrel's transport one thread switch sooner. At 64 connections
// with one request each in flight this cut the metrics server's CPU per request from 13.3 to
// 9.5 µs (docs/performance.md). Application code still runs on the thread pool (Kestrel's
// UnsafePreferInlineScheduling stays off). The runtime reads the variable once, before the first
// socket; DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS=0 in the environment opts out.
if (Environment.GetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS") is null)
{
    Environment.SetEnvironmentVariable("DOTNET_SYSTEM_NET_SOCKETS_INLINE_COMPLETIONS", "1");
}

try
{
    await using WebApplication app = RtoServer.Build(args);
    await app.RunAsync();
    return 0;
}
catch (Exception ex) when (ex is InvalidOperationException or IOException or UnauthorizedAccessException)
{
    // Start-up problems an operator can fix (a port in use, a bad setting, an unwritable data
    // directory) get one clear line instead of a stack trace.
    string reason = ex.InnerException is AddressInUseException ? $"{ex.Message} Is another server running? Choose other ports with --Metrics:Port=N and --Jobs:Port=N." : ex.Message;
    Console.Error.WriteLine($"rto-server: cannot start: {reason}");
    return 1;
}
