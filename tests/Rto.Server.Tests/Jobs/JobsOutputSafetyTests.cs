using Rto.Server.Jobs;

namespace Rto.Server.Tests.Jobs;

/// <summary>
/// Issue 15 item 2: a job's outputs never follow a symbolic link planted in its folder, so a job
/// can never write outside the data roots.
/// </summary>
[TestClass]
public sealed class JobsOutputSafetyTests
{
    private const string VictimText = "not to be overwritten";

    private static async Task<(TestServer Server, string Directory, string Victim)> StartAsync()
    {
        TestServer server = await TestServer.StartAsync();
        string directory = Path.Combine(server.JobsRoot, "run1");
        Directory.CreateDirectory(directory);
        JobSamples.WriteTimeSeries(Path.Combine(directory, "time_series.parquet"), 64);
        await File.WriteAllTextAsync(Path.Combine(directory, "fft.task"), "fft values\n");
        await File.WriteAllTextAsync(Path.Combine(directory, "work.sql"), "SELECT count(*) AS n FROM input\n");
        string outside = Path.Combine(server.DataDirectory, "outside");
        Directory.CreateDirectory(outside);
        string victim = Path.Combine(outside, "victim.parquet");
        await File.WriteAllTextAsync(victim, VictimText);
        return (server, directory, victim);
    }

    [TestMethod]
    [DataRow("fft.task", "fft")]
    [DataRow("work.sql", "work")]
    public async Task ALinkNamedLikeTheTemporaryOutputIsNeverWrittenThrough(string task, string stem)
    {
        (TestServer server, string directory, string victim) = await StartAsync();
        await using TestServer _ = server;

        // The name the server used for its temporary output before the fix.
        File.CreateSymbolicLink(Path.Combine(directory, $".{stem}_ansver.parquet.partial"), victim);

        string reply = await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, task));
        Assert.AreEqual($"{stem}_ansver.parquet", JobRequests.ResultFile(reply));
        Assert.AreEqual(VictimText, await File.ReadAllTextAsync(victim), "the file outside the root is untouched");
        Assert.IsNull(new FileInfo(Path.Combine(directory, $"{stem}_ansver.parquet")).LinkTarget, "the result is a regular file");
        Assert.IsEmpty(Directory.GetDirectories(directory, ".rto-*"), "no temporary folder is left behind");
    }

    [TestMethod]
    [DataRow("fft.task", "fft")]
    [DataRow("work.sql", "work")]
    public async Task AResultNameThatIsALinkIsRefused(string task, string stem)
    {
        (TestServer server, string directory, string victim) = await StartAsync();
        await using TestServer _ = server;
        File.CreateSymbolicLink(Path.Combine(directory, $"{stem}_ansver.parquet"), victim);

        string error = JobRequests.Error(await JobsExchange.OneShotAsync(server, JobRequests.Dask(directory, task)));
        StringAssert.Contains(error, $"'{stem}_ansver.parquet' in Directory is a symbolic link");
        Assert.AreEqual(VictimText, await File.ReadAllTextAsync(victim));
        Assert.AreEqual(victim, new FileInfo(Path.Combine(directory, $"{stem}_ansver.parquet")).LinkTarget, "the link is left as it was");
    }

    [TestMethod]
    public void ATemporaryOutputIsCreatedExclusively()
    {
        string directory = Path.Combine(TestServer.NewDataDirectory(), "exclusive");
        Directory.CreateDirectory(directory);
        using (JobOutputFile output = JobOutputFile.Create(directory, "r_ansver.parquet"))
        {
            // The temporary file exists already (created empty); opening it again exclusively fails.
            Assert.IsTrue(File.Exists(output.TemporaryPath));
            Assert.ThrowsExactly<IOException>(() => new FileStream(output.TemporaryPath, FileMode.CreateNew).Dispose());
            using (FileStream stream = output.OpenWrite())
            {
                stream.WriteByte(42);
            }

            output.Commit();
        }

        CollectionAssert.AreEqual(new byte[] { 42 }, File.ReadAllBytes(Path.Combine(directory, "r_ansver.parquet")));
        Assert.IsEmpty(Directory.GetDirectories(directory));
    }
}
