using Rto.Client;
using Rto.Client.Optimization;
using Rto.Samples.RtoConsole;

// Drives RTO sessions by hand, one call at a time, as a plant engineer would when the "model"
// is a test run on the plant:  dotnet run --project samples/Rto.Samples.RtoConsole -- [address] [token]
// Scriptable: printf '5\n0\n' | dotnet run --project samples/Rto.Samples.RtoConsole
string address = args.Length > 0 ? args[0] : "127.0.0.1:5081";
string? token = args.Length > 1 ? args[1] : Environment.GetEnvironmentVariable("RTO_ACCESS_TOKEN");
OptimizationClient client;
try
{
    client = await OptimizationClient.ConnectAsync(GrpcAddress.Parse(address), new OptimizationClientOptions { AccessToken = token });
}
catch (Exception ex) when (ex is OptimizationClientException or ArgumentException)
{
    Console.Error.WriteLine($"rto: {ex.Message}");
    return 1;
}

await using (client)
{
    Console.WriteLine($"RTO console — {address}");
    return await new RtoConsoleApp(client, Console.In, Console.Out, echo: Console.IsInputRedirected).RunAsync();
}
