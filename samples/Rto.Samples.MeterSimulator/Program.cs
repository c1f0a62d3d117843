using System.Globalization;
using Rto.Client.Meters;
using Rto.Protocols.Meters;
using Rto.Samples.MeterSimulator;

// dotnet run --project samples/Rto.Samples.MeterSimulator -- [--host 127.0.0.1] [--port 44444]
//     [--registry meters.tsv] [--rate 10] [--seconds 0] [--bad 0.05]
var settings = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
for (int i = 0; i + 1 < args.Length; i += 2)
{
    settings[args[i].TrimStart('-')] = args[i + 1];
}

string host = settings.GetValueOrDefault("host", "127.0.0.1");
int port = int.Parse(settings.GetValueOrDefault("port", "44444"), CultureInfo.InvariantCulture);
string registryPath = settings.GetValueOrDefault("registry", Path.Combine(AppContext.BaseDirectory, "meters.tsv"));
double rate = double.Parse(settings.GetValueOrDefault("rate", "10"), CultureInfo.InvariantCulture);
int seconds = int.Parse(settings.GetValueOrDefault("seconds", "0"), CultureInfo.InvariantCulture);
double bad = double.Parse(settings.GetValueOrDefault("bad", "0"), CultureInfo.InvariantCulture);

MeterRegistryContent registry = await MeterRegistryReader.ReadFileAsync(registryPath);
Console.WriteLine($"{registry.Meters.Count} meters from {registryPath}; {rate} readings/s each to {host}:{port}{(bad > 0 ? $", {bad:P0} bad" : "")}. Ctrl+C stops.");
using var stop = new CancellationTokenSource();
Console.CancelKeyPress += (_, e) =>
{
    e.Cancel = true;
    stop.Cancel();
};
if (seconds > 0)
{
    stop.CancelAfter(TimeSpan.FromSeconds(seconds));
}

TimeSpan step = TimeSpan.FromSeconds(1 / rate);
await using var client = await MetersClient.ConnectAsync(host, port);
using var timer = new PeriodicTimer(step);
long sent = 0;
var random = new Random();
try
{
    while (await timer.WaitForNextTickAsync(stop.Token))
    {
        foreach (string line in MeterSimulator.Lines(registry.Meters, DateTime.Now, step, 1, bad, random))
        {
            await client.SendLineAsync(line, stop.Token);
            sent++;
        }

        await client.FlushAsync(stop.Token);
    }
}
catch (OperationCanceledException)
{
    // Ctrl+C or --seconds elapsed.
}

Console.WriteLine($"Sent {sent} lines.");
