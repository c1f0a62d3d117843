using System.Numerics;
using System.Text.Json;
using DuckDB.NET.Data;
using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

[TestClass]
public sealed class JobsExecutionTests
{
    private static async Task<(TestServer Server, string Directory)> StartWithRunAsync(int rows = 64)
    {
        TestServer server = await TestServer.StartAsync();
        string directory = Path.Combine(server.JobsRoot, "run1");
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), rows);
        return (server, directory);
    }

    private static Task<string> RunJobAsync(TestServer server, string directory, string file, string input = "time_series.parquet") =>
        JobsExchange.OneShotAsync(server, JsonSerializer.Serialize(new { Header = "Dask", Request = new { Directory = directory, Base = input, File = file } }));

    private static JsonElement Response(string reply) => JsonDocument.Parse(reply).RootElement.GetProperty("Response");

    private static async Task AssertErrorAsync(TestServer server, string reply, string expectedFragment)
    {
        JsonElement response = Response(reply);
        Assert.AreEqual("error", response.GetProperty("Status").GetString(), reply);
        StringAssert.Contains(response.GetProperty("Discription").GetString(), expectedFragment, reply);

        // The failure hurt only that job: the server still answers.
        StringAssert.Contains(await JobsExchange.OneShotAsync(server, """{"Header":"Info","Request":"Status"}"""), "Status: Ready");
    }

    private static List<object[]> Query(string sql)
    {
        using var db = new DuckDBConnection("DataSource=:memory:");
        db.Open();
        using DuckDBCommand command = db.CreateCommand();
        command.CommandText = sql;
        using var reader = command.ExecuteReader();
        var rows = new List<object[]>();
        while (reader.Read())
        {
            object[] row = new object[reader.FieldCount];
            reader.GetValues(row);
            rows.Add(row);
        }

        return rows;
    }

    [TestMethod]
    public async Task ASqlTaskWritesItsResultBesideTheInput()
    {
        (TestServer server, string directory) = await StartWithRunAsync();
        await using TestServer _ = server;
        await File.WriteAllTextAsync(Path.Combine(directory, "work.sql"), "SELECT count(*) AS n, max(sample) AS last FROM input;\n");
        string reply = await RunJobAsync(server, directory, "work.sql");
        JsonElement response = Response(reply);
        Assert.AreEqual("complete", response.GetProperty("Status").GetString(), reply);
        Assert.AreEqual(directory, response.GetProperty("Discription").GetProperty("Directory").GetString());
        Assert.AreEqual("work_ansver.parquet", response.GetProperty("Discription").GetProperty("File").GetString());

        object[] row = Query($"SELECT n, last FROM '{Path.Combine(directory, "work_ansver.parquet")}'").Single();
        Assert.AreEqual(64L, Convert.ToInt64(row[0]));
        Assert.AreEqual(63L, Convert.ToInt64(row[1]));
    }

    [TestMethod]
    public async Task TheFftTaskMatchesAReferenceDft()
    {
        (TestServer server, string directory) = await StartWithRunAsync(rows: 50);
        await using TestServer _ = server;
        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "# spectrum\nfft values\n");
        string reply = await RunJobAsync(server, directory, "fft.task");
        Assert.AreEqual("complete", Response(reply).GetProperty("Status").GetString(), reply);

        double[] samples = [.. Query($"SELECT values FROM '{Path.Combine(directory, "time_series.parquet")}' ORDER BY sample").Select(r => (double)r[0])];
        List<object[]> spectrum = Query($"SELECT frequency_index, re, im, magnitude FROM '{Path.Combine(directory, "fft_ansver.parquet")}' ORDER BY frequency_index");
        Assert.HasCount(samples.Length, spectrum);
        for (int k = 0; k < samples.Length; k++)
        {
            Complex expected = Complex.Zero;
            for (int n = 0; n < samples.Length; n++)
            {
                expected += samples[n] * Complex.Exp(new Complex(0, -2 * Math.PI * k * n / samples.Length));
            }

            Assert.AreEqual(expected.Real, (double)spectrum[k][1], 1e-9, $"re[{k}]");
            Assert.AreEqual(expected.Imaginary, (double)spectrum[k][2], 1e-9, $"im[{k}]");
            Assert.AreEqual(expected.Magnitude, (double)spectrum[k][3], 1e-9, $"|X[{k}]|");
        }
    }

    /// <summary>
    /// The result of an FFT longer than a row group is what readers always got: the same four
    /// required columns of the same types, one row per bin in order, the spectrum of the samples
    /// (the upper half the conjugate mirror of the lower), magnitude the modulus of each bin.
    /// </summary>
    [TestMethod]
    public async Task ALongSpectrumKeepsItsColumnsAndOrderAcrossRowGroups()
    {
        int rows = (2 * SpectrumFile.RowGroupRows) + 1001; // three row groups, an odd length
        (TestServer server, string directory) = await StartWithRunAsync(rows);
        await using TestServer _ = server;
        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "fft values\n");
        string reply = await RunJobAsync(server, directory, "fft.task");
        Assert.AreEqual("complete", Response(reply).GetProperty("Status").GetString(), reply);
        string result = Path.Combine(directory, "fft_ansver.parquet");

        List<object[]> schema = Query($"SELECT name, type, repetition_type, converted_type, num_children FROM parquet_schema('{result}')");
        string[] actual = [.. schema.Select(r => string.Join(' ', r.Select(v => v is DBNull ? "" : v.ToString())))];
        CollectionAssert.AreEqual(
            new[] { "root    4", "frequency_index INT64 REQUIRED INT_64 ", "re DOUBLE REQUIRED  ", "im DOUBLE REQUIRED  ", "magnitude DOUBLE REQUIRED  " },
            actual,
            string.Join(" | ", actual));
        Assert.AreEqual(3L, Convert.ToInt64(Query($"SELECT count(DISTINCT row_group_id) FROM parquet_metadata('{result}')").Single()[0]));
        Assert.AreEqual("SNAPPY", Query($"SELECT DISTINCT compression FROM parquet_metadata('{result}')").Single()[0]);

        double[] samples = [.. Query($"SELECT values FROM '{Path.Combine(directory, "time_series.parquet")}' ORDER BY sample").Select(r => (double)r[0])];
        List<object[]> spectrum = Query($"SELECT frequency_index, re, im, magnitude FROM '{result}'");
        Assert.HasCount(rows, spectrum);
        for (int k = 0; k < rows; k++)
        {
            Assert.AreEqual((long)k, spectrum[k][0], "one row per bin, in order");
            Assert.AreEqual(new Complex((double)spectrum[k][1], (double)spectrum[k][2]).Magnitude, (double)spectrum[k][3], 0, $"|X[{k}]|");
            if (k > 0)
            {
                Assert.AreEqual((double)spectrum[k][1], (double)spectrum[rows - k][1], 0, $"re[{k}] = re[n-{k}]");
                Assert.AreEqual((double)spectrum[k][2], -(double)spectrum[rows - k][2], 0, $"im[{k}] = -im[n-{k}]");
            }
        }

        double scale = samples.Sum(Math.Abs);
        foreach (int k in new[] { 0, 1, 7, rows / 2, (rows / 2) + 1, SpectrumFile.RowGroupRows, rows - 7, rows - 1 })
        {
            Complex expected = Complex.Zero;
            for (int n = 0; n < rows; n++)
            {
                expected += samples[n] * Complex.Exp(new Complex(0, -2 * Math.PI * ((long)k * n % rows) / rows));
            }

            Assert.AreEqual(expected.Real, (double)spectrum[k][1], 1e-12 * scale, $"re[{k}]");
            Assert.AreEqual(expected.Imaginary, (double)spectrum[k][2], 1e-12 * scale, $"im[{k}]");
        }
    }

    [TestMethod]
    public async Task TheStatsTaskSummarisesAColumn()
    {
        (TestServer server, string directory) = await StartWithRunAsync();
        await using TestServer _ = server;
        await File.WriteAllTextAsync(Path.Combine(directory, "stats.task"), "stats sample");
        string reply = await RunJobAsync(server, directory, "stats.task");
        Assert.AreEqual("complete", Response(reply).GetProperty("Status").GetString(), reply);
        object[] row = Query($"SELECT count, mean, min, max FROM '{Path.Combine(directory, "stats_ansver.parquet")}'").Single();
        Assert.AreEqual(64L, Convert.ToInt64(row[0]));
        Assert.AreEqual(31.5, (double)row[1], 1e-12);
        Assert.AreEqual(0L, Convert.ToInt64(row[2]));
        Assert.AreEqual(63L, Convert.ToInt64(row[3]));
    }

    [TestMethod]
    public async Task TheShippedSampleRunsAsIs()
    {
        await using TestServer server = await TestServer.StartAsync();
        string sample = Path.Combine(server.JobsRoot, "sample");
        foreach (string task in new[] { "fft.task", "stats.task", "work.sql" })
        {
            string reply = await RunJobAsync(server, sample, task);
            Assert.AreEqual("complete", Response(reply).GetProperty("Status").GetString(), reply);
        }
    }

    [TestMethod]
    public async Task AMissingFileIsAnError()
    {
        (TestServer server, string directory) = await StartWithRunAsync();
        await using TestServer _ = server;
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "nothing.sql"), "File 'nothing.sql' does not exist");
        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "fft values");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "fft.task", input: "missing.parquet"), "Base 'missing.parquet' does not exist");
    }

    [TestMethod]
    public async Task BadSqlIsAnError()
    {
        (TestServer server, string directory) = await StartWithRunAsync();
        await using TestServer _ = server;
        await File.WriteAllTextAsync(Path.Combine(directory, "bad.sql"), "SELEKT * FROM input");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "bad.sql"), "bad SQL");
        await File.WriteAllTextAsync(Path.Combine(directory, "drop.sql"), "SELECT 1; DROP VIEW input");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "drop.sql"), "only a single read-only query");
        await File.WriteAllTextAsync(Path.Combine(directory, "copy.sql"), "COPY input TO '/tmp/x.csv'");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "copy.sql"), "only a single read-only query");
    }

    [TestMethod]
    public async Task SqlCannotReadFilesOutsideTheJobFolder()
    {
        (TestServer server, string directory) = await StartWithRunAsync();
        await using TestServer _ = server;
        await File.WriteAllTextAsync(Path.Combine(directory, "peek.sql"), "SELECT * FROM read_csv('/etc/passwd')");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "peek.sql"), "Permission Error");
    }

    [TestMethod]
    public async Task AMissingColumnIsAnError()
    {
        (TestServer server, string directory) = await StartWithRunAsync();
        await using TestServer _ = server;
        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "fft voltage");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "fft.task"), "voltage");
        await File.WriteAllTextAsync(Path.Combine(directory, "odd.task"), "integrate values");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "odd.task"), "Unknown task operation 'integrate'");
    }

    [TestMethod]
    public async Task DirectoriesOutsideTheRootsAreRefused()
    {
        (TestServer server, string directory) = await StartWithRunAsync();
        await using TestServer _ = server;
        string outside = Path.Combine(server.DataDirectory, "outside");
        Directory.CreateDirectory(outside);
        File.Copy(Path.Combine(directory, "time_series.parquet"), Path.Combine(outside, "time_series.parquet"));
        await File.WriteAllTextAsync(Path.Combine(outside, "fft.task"), "fft values");

        await AssertErrorAsync(server, await RunJobAsync(server, outside, "fft.task"), "outside the server's data roots");
        await AssertErrorAsync(server, await RunJobAsync(server, Path.Combine(directory, "..", "..", "outside"), "fft.task"), "contains '..'");
        await AssertErrorAsync(server, await RunJobAsync(server, "relative/run1", "fft.task"), "must be an absolute path");

        // A symbolic link inside a root that leads out of it is followed, and refused.
        string link = Path.Combine(server.JobsRoot, "escape");
        Directory.CreateSymbolicLink(link, outside);
        await AssertErrorAsync(server, await RunJobAsync(server, link, "fft.task"), "outside the server's data roots");

        // So is a linked input file or task file inside an allowed folder.
        File.CreateSymbolicLink(Path.Combine(directory, "linked.parquet"), Path.Combine(outside, "time_series.parquet"));
        File.CreateSymbolicLink(Path.Combine(directory, "linked.task"), Path.Combine(outside, "fft.task"));
        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "fft values");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "fft.task", input: "linked.parquet"), "symbolic link leading out of Directory");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "linked.task"), "symbolic link leading out of Directory");
        await AssertErrorAsync(server, await RunJobAsync(server, directory, "../outside/fft.task"), "without a path");
        Assert.IsFalse(File.Exists(Path.Combine(outside, "fft_ansver.parquet")));
    }
}
