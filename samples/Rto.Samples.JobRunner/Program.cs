// Runs one job on the Rto jobs endpoint and shows progress while it runs: the job goes out on one
// connection (one-shot, exactly like the original clients) while a second, kept connection asks
// the server "All statistic" twice a second.
//
//   dotnet run --project samples/Rto.Samples.JobRunner -- [--host H] [--port N] [--directory DIR] [--base FILE] [--file TASK]
//
// The defaults run the FFT of the sample the server lays out on first start in data/jobs/sample
// (run both from the same folder, e.g. the repository root).
using System.Diagnostics;
using System.Net;
using Rto.Client.Jobs;
using Rto.Protocols.Jobs;

string host = Option("--host", "127.0.0.1");
int port = int.Parse(Option("--port", JobsClient.DefaultPort.ToString(System.Globalization.CultureInfo.InvariantCulture)), System.Globalization.CultureInfo.InvariantCulture);
var request = new JobRequest
{
    Directory = Path.GetFullPath(Option("--directory", "data/jobs/sample")),
    Base = Option("--base", "time_series.parquet"),
    File = Option("--file", "fft.task"),
};
EndPoint endPoint = IPAddress.TryParse(host, out IPAddress? address) ? new IPEndPoint(address, port) : new DnsEndPoint(host, port);

try
{
    Console.WriteLine($"Job: {request.File} over {request.Base} in {request.Directory}");
    var watch = Stopwatch.StartNew();
    Task<JobResponse> job = JobsClient.SendOnceAsync(endPoint, request);
    await using (JobsClient monitor = await JobsClient.ConnectAsync(host, port))
    {
        while (await Task.WhenAny(job, Task.Delay(500)) != job)
        {
            JobResponse statistic = await monitor.InfoAsync(InfoRequests.AllStatistic);
            Console.WriteLine($"  {watch.Elapsed.TotalSeconds,6:0.0} s  {statistic.DiscriptionText}");
        }
    }

    JobResponse reply = await job;
    if (!reply.IsComplete)
    {
        Console.Error.WriteLine($"Job failed after {watch.Elapsed.TotalSeconds:0.00} s: {reply.DiscriptionText}");
        return 1;
    }

    JobResult? result = reply.GetResult();
    Console.WriteLine($"Done in {watch.Elapsed.TotalSeconds:0.00} s: {Path.Combine(result?.Directory ?? "", result?.File ?? "")}");
    return 0;
}
catch (JobsClientException ex)
{
    Console.Error.WriteLine($"rto job: {ex.Message}");
    return 2;
}

string Option(string name, string fallback)
{
    int at = Array.IndexOf(args, name);
    return at >= 0 && at + 1 < args.Length ? args[at + 1] : fallback;
}
