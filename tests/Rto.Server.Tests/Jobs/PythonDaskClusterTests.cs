using System.Diagnostics;
using System.Text.RegularExpressions;
using DuckDB.NET.Data;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

/// <summary>
/// <c>Jobs:Python:DaskScheduler</c>: main runs against an existing Dask cluster, here Debian's
/// dask-scheduler and two dask-workers on loopback, started by the test.
/// </summary>
[TestClass]
public sealed partial class PythonDaskClusterTests
{
    [TestMethod]
    public async Task MainRunsOnTheConfiguredDaskCluster()
    {
        PythonPrerequisites.Require();
        string work = TestServer.NewDataDirectory() + "-dask";
        Directory.CreateDirectory(work);
        var processes = new List<Process>();
        try
        {
            Process scheduler = Start(work, "/usr/bin/dask-scheduler", "--host", "127.0.0.1", "--port", "0", "--no-dashboard");
            processes.Add(scheduler);
            string address = await PythonJobsTests.WaitForLineAsync(scheduler, line => SchedulerLine().Match(line) is { Success: true } m ? m.Groups[1].Value : null, TimeSpan.FromSeconds(60));
            var workers = new List<string>();
            for (int i = 0; i < 2; i++)
            {
                Process worker = Start(work, "/usr/bin/dask-worker", address, "--host", "127.0.0.1", "--nthreads", "1", "--no-nanny", "--no-dashboard", "--name", $"rto-test-{i}");
                processes.Add(worker);
                workers.Add(await PythonJobsTests.WaitForLineAsync(worker, line => WorkerLine().Match(line) is { Success: true } m ? m.Groups[1].Value : null, TimeSpan.FromSeconds(60)));
            }

            string data = TestServer.NewDataDirectory();
            await using TestServer server = await TestServer.StartAsync(data, "--Jobs:Python:Enabled=true", "--Jobs:Python:Sandbox=Bubblewrap", $"--Jobs:Python:DaskScheduler={address}",
                "--Jobs:Python:PartitionSize=0", $"--Jobs:Python:ScratchDirectory={Path.Combine(data, "scratch")}", "--Jobs:Python:Timeout=00:02:00");
            string directory = Path.Combine(server.JobsRoot, "cluster");
            Directory.CreateDirectory(directory);
            string input = Path.Combine(directory, "time_series.parquet");
            using (var db = new DuckDBConnection("DataSource=:memory:;threads=1"))
            {
                db.Open();
                using DuckDBCommand command = db.CreateCommand();
                command.CommandText = $"COPY (SELECT i AS sample, sin(i / 10.0) AS values FROM range(8192) t(i)) TO '{input}' (FORMAT PARQUET, ROW_GROUP_SIZE 2048)";
                command.ExecuteNonQuery();
            }

            // Each partition says which worker computed it; the task's functions travel to the cluster by value.
            File.WriteAllText(Path.Combine(directory, "where.py"), """
                import pandas as pd
                from distributed import get_worker


                def where(part):
                    return pd.DataFrame({"worker": [get_worker().address], "rows": [len(part)], "total": [part["values"].sum()]})


                def main(ddf):
                    return ddf.map_partitions(where, meta={"worker": "object", "rows": "int64", "total": "float64"})
                """.ReplaceLineEndings("\n"));
            Assert.AreEqual("where_ansver.parquet", JobRequests.ResultFile(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "where.py"), PythonJobsTests.SlowJob)));

            using var check = new DuckDBConnection("DataSource=:memory:");
            check.Open();
            using DuckDBCommand query = check.CreateCommand();
            query.CommandText = $"SELECT worker, rows FROM '{Path.Combine(directory, "where_ansver.parquet")}'";
            using var reader = query.ExecuteReader();
            int partitions = 0;
            while (reader.Read())
            {
                partitions++;
                CollectionAssert.Contains(workers, reader.GetString(0), "computed by a worker of the cluster");
                Assert.AreEqual(2048L, Convert.ToInt64(reader.GetValue(1)));
            }

            Assert.AreEqual(4, partitions);
        }
        finally
        {
            foreach (Process process in processes)
            {
                try
                {
                    process.Kill(entireProcessTree: true);
                    process.WaitForExit(10_000);
                }
                catch (InvalidOperationException)
                {
                }

                process.Dispose();
            }
        }
    }

    private static Process Start(string workingDirectory, string program, params string[] arguments)
    {
        var info = new ProcessStartInfo(program) { RedirectStandardOutput = true, RedirectStandardError = true, UseShellExecute = false, WorkingDirectory = workingDirectory };
        foreach (string argument in arguments)
        {
            info.ArgumentList.Add(argument);
        }

        return Process.Start(info)!;
    }

    [GeneratedRegex(@"Scheduler at:\s+(tcp://[0-9.]+:\d+)")]
    private static partial Regex SchedulerLine();

    [GeneratedRegex(@"Start worker at:\s+(tcp://[0-9.]+:\d+)")]
    private static partial Regex WorkerLine();
}
