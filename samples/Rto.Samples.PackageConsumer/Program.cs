// Talks to a running Rto server with every client of the Rto.Client package, and runs a short
// optimization with the Rto.Optimization package, both restored BY VERSION from the local feed
// artifacts/packages (see README.md), exactly as a user's project would.
//
//   dotnet pack Rto.sln -c Release -o artifacts/packages
//   dotnet run --project samples/Rto.Samples.PackageConsumer -- [--host H] [--metrics-port N] ...
//
// Exit code: 0 when every check passed, 1 when one failed, 2 for bad arguments.
using Rto.Samples.PackageConsumer;

ServerAddress server;
try
{
    server = ServerAddress.Parse(args);
}
catch (FormatException ex)
{
    Console.Error.WriteLine($"{ex.Message}\n{ServerAddress.Usage}");
    return 2;
}

int failed = 0;
foreach ((string name, ServerCheck run) in ServerChecks.All)
{
    // A check that hangs (a stream that never delivers, a server that never answers) fails too.
    using var timeout = new CancellationTokenSource(TimeSpan.FromSeconds(20));
    try
    {
        string result = await run(server, timeout.Token);
        Console.WriteLine($"ok   {name}: {result}");
    }
    catch (Exception ex) when (ex is not OutOfMemoryException)
    {
        failed++;
        string reason = ex is OperationCanceledException && timeout.IsCancellationRequested ? "no answer within 20 s" : $"{ex.GetType().Name}: {ex.Message}";
        Console.Error.WriteLine($"FAIL {name} ({server.Host}): {reason}");
    }
}

Console.WriteLine(failed == 0 ? $"All {ServerChecks.All.Count} checks passed." : $"{failed} of {ServerChecks.All.Count} checks failed.");
return failed == 0 ? 0 : 1;
