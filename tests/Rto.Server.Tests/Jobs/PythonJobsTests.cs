using System.Diagnostics;
using System.Net;
using System.Net.Sockets;
using System.Runtime.InteropServices;
using DuckDB.NET.Data;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

/// <summary>
/// Issue 14: the original server's task files (<c>work.py</c> with <c>main(ddf)</c>) run unchanged,
/// each in a sandboxed, limited worker process.
/// </summary>
[TestClass]
public sealed class PythonJobsTests
{
    /// <summary>How long a test waits for a Python job: a worker starts python3 and imports dask, slow on a loaded machine.</summary>
    internal static readonly TimeSpan SlowJob = TimeSpan.FromMinutes(2);

    /// <summary>A task shaped like the original example: the FFT of column values with dask.array.fft, returned as a numpy array.</summary>
    internal const string FftTask = """
        import numpy as np
        from dask.array.fft import fft


        def main(frame):
            spectrum = fft(frame["values"].to_dask_array(lengths=True))
            return spectrum.compute()
        """;

    private static async Task<TestServer> StartAsync(params string[] settings)
    {
        PythonPrerequisites.Require();
        string data = TestServer.NewDataDirectory();
        return await TestServer.StartAsync(data, ["--Jobs:Python:Enabled=true", "--Jobs:Python:Sandbox=Bubblewrap", $"--Jobs:Python:ScratchDirectory={Path.Combine(data, "scratch")}", "--Jobs:Python:Timeout=00:01:00", .. settings]);
    }

    private static string NewRun(TestServer server, long rows = 4096, int rowGroupSize = 0)
    {
        string directory = Path.Combine(server.JobsRoot, "run-" + Guid.NewGuid().ToString("N")[..8]);
        Directory.CreateDirectory(directory);
        string input = Path.Combine(directory, "time_series.parquet");
        if (rowGroupSize == 0)
        {
            JobSamples.WriteTimeSeries(input, rows);
        }
        else
        {
            Execute($"COPY (SELECT i AS sample, i / 1000.0 AS time, sin(i / 10.0) AS values FROM range({rows}) t(i)) TO '{input}' (FORMAT PARQUET, ROW_GROUP_SIZE {rowGroupSize})");
        }

        return directory;
    }

    private static Task<string> RunAsync(TestServer server, string directory, string task, string file = "work.py")
    {
        File.WriteAllText(Path.Combine(directory, file), task.ReplaceLineEndings("\n"));
        return JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, file), SlowJob);
    }

    private static void Execute(string sql)
    {
        using var db = new DuckDBConnection("DataSource=:memory:;threads=1");
        db.Open();
        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = sql;
        command.ExecuteNonQuery();
    }

    private static List<object?[]> Query(string sql)
    {
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object?[]>();
        while (reader.Read())
        {
            object?[] row = new object?[reader.FieldCount];
            for (int i = 0; i < row.Length; i++)
            {
                row[i] = reader.IsDBNull(i) ? null : reader.GetValue(i);
            }

            rows.Add(row);
        }

        return rows;
    }

    /// <summary>The column <c>values</c> as raw little-endian doubles in a file numpy can read, for computing expectations.</summary>
    private static string RawValues(string directory)
    {
        double[] values = [.. Query($"SELECT values FROM '{Path.Combine(directory, "time_series.parquet")}'").Select(r => (double)r[0]!)];
        string raw = Path.Combine(TestServer.NewDataDirectory() + "-raw.bin");
        File.WriteAllBytes(raw, MemoryMarshal.AsBytes(values.AsSpan()).ToArray());
        return raw;
    }

    [TestMethod]
    public async Task PythonTasksAreRefusedUntilEnabledAndTheRefusalSaysWhy()
    {
        await using TestServer server = await TestServer.StartAsync();
        string directory = NewRun(server);
        string error = JobRequests.Error(await RunAsync(server, directory, FftTask));
        StringAssert.Contains(error, "Jobs:Python:Enabled");
        StringAssert.Contains(error, "sender's own code");
        Assert.IsFalse(File.Exists(Path.Combine(directory, "work_ansver.parquet")));
    }

    [TestMethod]
    public async Task TheOriginalFftExampleRunsAndItsSpectrumIsExactlyNumpys()
    {
        await using TestServer server = await StartAsync();
        string directory = NewRun(server);
        Assert.AreEqual("work_ansver.parquet", JobRequests.ResultFile(await RunAsync(server, directory, FftTask)));

        // numpy on the same doubles, outside the server: the spectrum must match bit for bit.
        string raw = RawValues(directory);
        PythonPrerequisites.RunPython("-c", $"import numpy as np; s = np.fft.fft(np.fromfile('{raw}')); np.concatenate([s.real, s.imag]).tofile('{raw}.out')");
        double[] expected = MemoryMarshal.Cast<byte, double>(File.ReadAllBytes(raw + ".out")).ToArray();
        List<object?[]> rows = Query($"SELECT re, im FROM '{Path.Combine(directory, "work_ansver.parquet")}'");
        Assert.HasCount(4096, rows);
        for (int k = 0; k < rows.Count; k++)
        {
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected[k]), BitConverter.DoubleToInt64Bits((double)rows[k][0]!), $"re[{k}]");
            Assert.AreEqual(BitConverter.DoubleToInt64Bits(expected[4096 + k]), BitConverter.DoubleToInt64Bits((double)rows[k][1]!), $"im[{k}]");
        }
    }

    [TestMethod]
    public async Task WithTheOriginalResultFormatTheArrayIsWrittenAsItsStr()
    {
        await using TestServer server = await StartAsync("--Jobs:Python:ResultFormat=Original");
        string directory = NewRun(server);
        Assert.AreEqual("work_ansver.txt", JobRequests.ResultFile(await RunAsync(server, directory, FftTask)));
        string expected = PythonPrerequisites.RunPython("-c", $"import sys, numpy as np; sys.stdout.write(str(np.fft.fft(np.fromfile('{RawValues(directory)}'))))");
        string written = await File.ReadAllTextAsync(Path.Combine(directory, "work_ansver.txt"));
        Assert.AreEqual(expected, written);
        StringAssert.Contains(written, " ...\n ", "numpy's abbreviated form of a long array, as the original wrote it");

        // A frame with string column names is a table in that format too.
        Assert.AreEqual("frame_ansver.parquet", JobRequests.ResultFile(await RunAsync(server, directory, "def main(ddf):\n    return {'n': [1, 2, 3]}\n", "frame.py")));
        Assert.AreEqual(6L, Convert.ToInt64(Query($"SELECT sum(n)::BIGINT FROM '{Path.Combine(directory, "frame_ansver.parquet")}'").Single()[0]));
    }

    [TestMethod]
    public async Task TheInputIsPartitionedAsTheOriginalReadParquetDid()
    {
        // Four row groups: small enough together (< 128 MiB) to be one partition, as dask 2023.6.1 made it.
        const string Partitions = "def main(ddf):\n    return [len(p) for p in ddf.partitions]\n";
        await using (TestServer server = await StartAsync())
        {
            string directory = NewRun(server, rows: 8192, rowGroupSize: 2048);
            Assert.HasCount(4, Query($"SELECT DISTINCT row_group_id FROM parquet_metadata('{Path.Combine(directory, "time_series.parquet")}')"));
            JobRequests.ResultFile(await RunAsync(server, directory, Partitions, "parts.py"));
            Assert.AreEqual("[8192]", await File.ReadAllTextAsync(Path.Combine(directory, "parts_ansver.txt")));
            Assert.AreEqual("work_ansver.parquet", JobRequests.ResultFile(await RunAsync(server, directory, FftTask)));
        }

        // A partition per row group: the original example then fails as dask fails it, and says so.
        await using (TestServer server = await StartAsync("--Jobs:Python:PartitionSize=0"))
        {
            string directory = NewRun(server, rows: 8192, rowGroupSize: 2048);
            JobRequests.ResultFile(await RunAsync(server, directory, Partitions, "parts.py"));
            Assert.AreEqual("[2048, 2048, 2048, 2048]", await File.ReadAllTextAsync(Path.Combine(directory, "parts_ansver.txt")));
            string error = JobRequests.Error(await RunAsync(server, directory, FftTask));
            StringAssert.Contains(error, "single chunk");
            StringAssert.Contains(error, "work.py\", line 6, in main");
            Assert.DoesNotContain("rto_job_worker", error, "the worker's own frames are left out");
        }

        // Beyond the size, consecutive row groups are joined while they fit (dask's "adaptive" split).
        string probe = TestServer.NewDataDirectory() + "-groups.parquet";
        Execute($"COPY (SELECT i AS sample, i / 1000.0 AS time, sin(i / 10.0) AS values FROM range(8192) t(i)) TO '{probe}' (FORMAT PARQUET, ROW_GROUP_SIZE 2048)");
        long[] sizes = [.. Query($"SELECT max(row_group_bytes) FROM parquet_metadata('{probe}') GROUP BY row_group_id ORDER BY row_group_id").Select(r => Convert.ToInt64(r[0]))];
        await using (TestServer server = await StartAsync($"--Jobs:Python:PartitionSize={sizes[0] + sizes[1]}"))
        {
            string directory = NewRun(server, rows: 8192, rowGroupSize: 2048);
            JobRequests.ResultFile(await RunAsync(server, directory, Partitions, "parts.py"));
            Assert.AreEqual("[4096, 4096]", await File.ReadAllTextAsync(Path.Combine(directory, "parts_ansver.txt")));
        }
    }

    [TestMethod]
    public async Task ColumnsArriveExactlyWithPandasTypes()
    {
        await using TestServer server = await StartAsync();
        string directory = NewRun(server);
        string input = Path.Combine(directory, "types.parquet");
        Execute($"""
            COPY (SELECT * FROM (VALUES
              (1::BIGINT, -0.0::DOUBLE, 1.5::FLOAT, true, 'ä€😀', TIMESTAMP '2024-04-27 14:00:00.123456', TIMESTAMPTZ '2024-04-27 14:00:00+00', 7::INTEGER, 1.25::DECIMAL(10,2), DATE '2024-04-27', '\x00\xFF'::BLOB),
              (-9007199254740993::BIGINT, 1e-310::DOUBLE, -2.25::FLOAT, false, NULL, TIMESTAMP '1969-12-31 23:59:59.999999', NULL, NULL, NULL, NULL, NULL),
              (3::BIGINT, 0.1::DOUBLE + 0.2::DOUBLE, 0::FLOAT, true, '', TIMESTAMP '2024-01-01', TIMESTAMPTZ '2000-01-01 00:00:00+00', 9::INTEGER, -3.10::DECIMAL(10,2), DATE '1970-01-01', ''::BLOB)
            ) t(i, d, f, b, s, ts, tz, n, dec, dt, bl)) TO '{input}' (FORMAT PARQUET)
            """);

        // Numbers, booleans, text and timestamps come back as a table equal to the input, bit for bit.
        File.WriteAllText(Path.Combine(directory, "same.py"), "def main(ddf):\n    return ddf[['i', 'd', 'f', 'b', 's', 'ts', 'tz']].compute()\n");
        JobRequests.ResultFile(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "same.py", input: "types.parquet"), SlowJob));
        string result = Path.Combine(directory, "same_ansver.parquet");
        Assert.AreEqual(0L, Convert.ToInt64(Query($"""
            SELECT count(*) FROM (
              (SELECT i, d::VARCHAR, f, b, s, ts, tz FROM '{input}' EXCEPT SELECT i, d::VARCHAR, f, b, s, ts, tz FROM '{result}')
              UNION ALL
              (SELECT i, d::VARCHAR, f, b, s, ts, tz FROM '{result}' EXCEPT SELECT i, d::VARCHAR, f, b, s, ts, tz FROM '{input}'))
            """).Single()[0]));

        // The dtypes and values pandas gives (pyarrow's conversions): nullable ints as float, decimals, dates and bytes as objects.
        File.WriteAllText(Path.Combine(directory, "types.py"), """
            def main(ddf):
                frame = ddf.compute()
                return " | ".join([str(dict(frame.dtypes.astype(str))), repr(frame["n"].tolist()), repr(frame["dec"].tolist()),
                                   repr(frame["dt"].tolist()), repr(frame["bl"].tolist()), repr(frame["s"].tolist()), repr(ddf.npartitions)])
            """.ReplaceLineEndings("\n"));
        JobRequests.ResultFile(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "types.py", input: "types.parquet"), SlowJob));
        string text = await File.ReadAllTextAsync(Path.Combine(directory, "types_ansver.txt"));
        Assert.AreEqual(
            "{'i': 'int64', 'd': 'float64', 'f': 'float32', 'b': 'bool', 's': 'object', 'ts': 'datetime64[ns]', 'tz': 'datetime64[ns, UTC]', 'n': 'float64', 'dec': 'object', 'dt': 'object', 'bl': 'object'}"
            + " | [7.0, nan, 9.0] | [Decimal('1.25'), None, Decimal('-3.10')] | [datetime.date(2024, 4, 27), None, datetime.date(1970, 1, 1)]"
            + " | [b'\\x00\\xff', None, b''] | ['ä€😀', None, ''] | 1",
            text);
    }

    [TestMethod]
    public async Task AFailureRepliesWithTheLastLinesOfTheTraceback()
    {
        await using TestServer server = await StartAsync();
        string directory = NewRun(server);
        string error = JobRequests.Error(await RunAsync(server, directory, "def check(ddf):\n    raise ValueError('boom: no such sensor')\n\n\ndef main(ddf):\n    check(ddf)\n"));
        StringAssert.StartsWith(error, "File 'work.py' failed:\nTraceback (most recent call last):");
        StringAssert.Contains(error, "line 6, in main");
        StringAssert.Contains(error, "line 2, in check");
        StringAssert.EndsWith(error, "ValueError: boom: no such sensor");
        Assert.AreEqual("Status: Ready", JobRequests.Response(await JobsExchange.OneShotAsync(server, """{"Header":"Info","Request":"Status"}""")).GetProperty("Discription").GetString());
    }

    [TestMethod]
    public async Task ATaskPastItsTimeIsKilledWhileTheServerKeepsServing()
    {
        await using TestServer server = await StartAsync("--Jobs:Python:Timeout=00:00:03");
        string directory = NewRun(server);
        File.WriteAllText(Path.Combine(directory, "spin.py"), "def main(ddf):\n    while True:\n        pass\n");
        Task<string> job = JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, "spin.py"), SlowJob);
        await JobsCancellationTests.WaitForAsync(() => WorkerProcesses(server).Count > 0);
        StringAssert.Contains(await JobsExchange.OneShotAsync(server, """{"Header":"Info","Request":"Dask process"}"""), "Dask process: 1");

        StringAssert.Contains(JobRequests.Error(await job.WaitAsync(TimeSpan.FromSeconds(30))), "ran longer than Jobs:Python:Timeout (00:00:03); its worker was killed");
        Assert.IsEmpty(WorkerProcesses(server), "no worker process is left");
        Assert.IsEmpty(Directory.GetFileSystemEntries(Path.Combine(server.DataDirectory, "scratch")), "the staged input is removed");
    }

    [TestMethod]
    public async Task AWorkerIsKilledWhenItsClientDisconnects()
    {
        await using TestServer server = await StartAsync();
        string directory = NewRun(server);
        File.WriteAllText(Path.Combine(directory, "spin.py"), "def main(ddf):\n    while True:\n        pass\n");
        RawConnection client = await RawConnection.OpenAsync(server.JobsEndPoint);
        await client.SendAsync(JobRequests.Dask(directory, "spin.py"));
        await JobsCancellationTests.WaitForAsync(() => WorkerProcesses(server).Count > 0);

        await client.DisposeAsync();
        await JobsCancellationTests.WaitForAsync(() => WorkerProcesses(server).Count == 0);
        await JobsCancellationTests.WaitForAsync(async () => (await JobsExchange.OneShotAsync(server, """{"Header":"Info","Request":"Dask process"}""")).Contains("Dask process: 0", StringComparison.Ordinal));
    }

    [TestMethod]
    public async Task MemoryAndCpuAreLimited()
    {
        await using TestServer server = await StartAsync("--Jobs:Python:MaxMemory=1073741824", "--Jobs:Python:CpuTime=00:00:02");
        string directory = NewRun(server);
        string memory = JobRequests.Error(await RunAsync(server, directory, "import numpy as np\n\ndef main(ddf):\n    return np.ones(1 << 31).sum()\n", "hog.py"));
        StringAssert.Contains(memory, "Unable to allocate 16.0 GiB");

        string cpu = JobRequests.Error(await RunAsync(server, directory, "def main(ddf):\n    n = 0\n    while True:\n        n += 1\n", "spin.py"));
        StringAssert.Contains(cpu, "CPU time limit (Jobs:Python:CpuTime, 2 s)");
    }

    [TestMethod]
    public async Task TheSandboxHasNoNetworkAndOnlyTheJobFolderIsWritable()
    {
        await using TestServer server = await StartAsync();
        string directory = NewRun(server);
        string sibling = NewRun(server);
        var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        try
        {
            int port = ((IPEndPoint)listener.LocalEndpoint).Port;
            string outside = Path.Combine(server.DataDirectory, "outside-" + Guid.NewGuid().ToString("N") + ".txt");
            string task = $$"""
                import os, socket


                def attempt(action):
                    try:
                        action()
                        return "yes"
                    except OSError as error:
                        return type(error).__name__


                def write(path):
                    with open(path, "w") as file:
                        file.write("x")


                def main(ddf):
                    return ", ".join([
                        "connect " + attempt(lambda: socket.create_connection(("127.0.0.1", {{port}}), timeout=3).close()),
                        "here " + attempt(lambda: write("written-here.txt")),
                        "outside " + attempt(lambda: write("{{outside}}")),
                        "tmp " + attempt(lambda: write("/tmp/rto-escape.txt")),
                        "sibling visible " + str(os.path.exists("{{sibling}}")),
                    ])
                """;
            JobRequests.ResultFile(await RunAsync(server, directory, task));
            string text = await File.ReadAllTextAsync(Path.Combine(directory, "work_ansver.txt"));
            Assert.AreEqual("connect ConnectionRefusedError, here yes, outside OSError, tmp OSError, sibling visible False", text.Replace("PermissionError", "OSError", StringComparison.Ordinal));
            Assert.IsFalse(listener.Pending(), "nothing reached the server's loopback");
            Assert.IsTrue(File.Exists(Path.Combine(directory, "written-here.txt")));
            Assert.IsFalse(File.Exists(outside));
        }
        finally
        {
            listener.Stop();
        }
    }

    [TestMethod]
    public async Task WithoutDaskMainGetsAPandasDataFrame()
    {
        // An interpreter on which dask cannot be imported.
        string wrapper = Path.Combine(TestServer.NewDataDirectory() + "-python-without-dask");
        File.WriteAllText(wrapper, $"#!/bin/sh\nexec {PythonPrerequisites.Python} -I -B -c 'import sys, runpy; sys.modules[\"dask\"] = None; sys.argv = sys.argv[1:]; runpy.run_path(sys.argv[0], run_name=\"__main__\")' \"$4\" \"$5\"\n");
        if (!OperatingSystem.IsWindows())
        {
            File.SetUnixFileMode(wrapper, UnixFileMode.UserRead | UnixFileMode.UserWrite | UnixFileMode.UserExecute);
        }
        await using TestServer server = await StartAsync($"--Jobs:Python:Executable={wrapper}", "--Jobs:Python:Sandbox=None");
        string directory = NewRun(server, rows: 10);
        JobRequests.ResultFile(await RunAsync(server, directory, "def main(df):\n    return type(df).__module__ + '.' + type(df).__name__ + ' ' + str(len(df))\n"));
        Assert.AreEqual("pandas.core.frame.DataFrame 10", await File.ReadAllTextAsync(Path.Combine(directory, "work_ansver.txt")));
    }

    private static List<int> WorkerProcesses(TestServer server)
    {
        string scratch = Path.Combine(server.DataDirectory, "scratch");
        var found = new List<int>();
        foreach (string folder in Directory.GetDirectories("/proc"))
        {
            if (int.TryParse(Path.GetFileName(folder), out int pid))
            {
                try
                {
                    if (File.ReadAllText(Path.Combine(folder, "cmdline")).Contains(scratch, StringComparison.Ordinal))
                    {
                        found.Add(pid);
                    }
                }
                catch (IOException)
                {
                    // The process ended meanwhile.
                }
                catch (UnauthorizedAccessException)
                {
                }
            }
        }

        return found;
    }

    internal static async Task<string> WaitForLineAsync(Process process, Func<string, string?> match, TimeSpan timeout)
    {
        var found = new TaskCompletionSource<string>(TaskCreationOptions.RunContinuationsAsynchronously);
        var lines = new List<string>();
        DataReceivedEventHandler handler = (_, e) =>
        {
            if (e.Data is null)
            {
                return;
            }

            lock (lines)
            {
                lines.Add(e.Data);
            }

            if (match(e.Data) is { } value)
            {
                found.TrySetResult(value);
            }
        };
        process.ErrorDataReceived += handler;
        process.OutputDataReceived += handler;
        process.BeginErrorReadLine();
        process.BeginOutputReadLine();
        try
        {
            return await found.Task.WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            lock (lines)
            {
                Assert.Fail($"{process.StartInfo.FileName} did not report in {timeout}:\n{string.Join('\n', lines)}");
            }

            throw;
        }
    }
}
