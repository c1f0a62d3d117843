using Microsoft.AspNetCore.Connections;
using Rto.Server.Hosting;

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
