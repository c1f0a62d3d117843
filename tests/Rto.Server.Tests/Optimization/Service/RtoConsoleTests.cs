using System.Diagnostics;
using Rto.Client.Optimization;
using Rto.Samples.RtoConsole;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>The console sample: a numbered menu where typing the number selects, driven from piped input.</summary>
[TestClass]
public sealed class RtoConsoleTests
{
    [TestMethod]
    public async Task TypedNumbersDriveEveryCallOfASession()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using OptimizationClient client = await OptimizationClient.ConnectAsync("127.0.0.1", server.OptimizationEndPoint.Port);
        string[] answers =
        [
            "1", "",                 // StartOptimizeSession: the example (parabola4)
            "2", "", "n",            // OptimizeIteration: the first candidate
            "2", "", "y", "3", "", "3", // report objective 3 (succeeded), CV y = 3
            "4", "",                 // Pause
            "2", "", "n",            // resumes: flag 0 and a message saying so
            "6", "", "2", "-3", "4", "1", "", // CalculateCV at the parabola's maximum
            "5",                     // GetServiceStatus
            "3", "",                 // Stop
            "9",                     // not on the menu
            "0",
        ];
        var output = new StringWriter();

        int exit = await new RtoConsoleApp(client, new StringReader(string.Join('\n', answers) + "\n"), output).RunAsync();

        string text = output.ToString();
        Assert.AreEqual(0, exit);
        StringAssert.Contains(text, "1. StartOptimizeSession\n2. OptimizeIteration\n3. Stop\n4. Pause\n5. GetServiceStatus\n6. CalculateCV\n0. Exit");
        StringAssert.Contains(text, "Started session ");
        Assert.AreEqual(3, text.Split("flag 0: evaluate this candidate").Length - 1, text);
        StringAssert.Contains(text, "The session is paused");
        StringAssert.Contains(text, "message: Session resumed after pause");
        StringAssert.Contains(text, "objective = 10");
        StringAssert.Contains(text, "status Running, service type RtoService");
        StringAssert.Contains(text, "stopped and deleted");
        StringAssert.Contains(text, "'9' is not on the menu");
    }

    [TestMethod]
    public async Task ThePipedProgramAnswersAndExitsAtTheEndOfItsInput()
    {
        await using TestServer server = await TestServer.StartAsync();
        var info = new ProcessStartInfo("dotnet")
        {
            RedirectStandardInput = true,
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        info.ArgumentList.Add(SampleProgram());
        info.ArgumentList.Add(server.OptimizationAddress);
        using Process process = Process.Start(info)!;

        // As `printf '5\n4\nnot-a-session\n' | dotnet run …`: no terminal, and the input ends without 0.
        await process.StandardInput.WriteAsync("5\n4\nnot-a-session\n");
        process.StandardInput.Close();
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        Task<string> errors = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(1));
        await process.WaitForExitAsync(timeout.Token);

        Assert.AreEqual(0, process.ExitCode, await errors);
        StringAssert.Contains(await output, "Choose 0-6: 5\n");
        StringAssert.Contains(await output, "status Running, service type RtoService");
        StringAssert.Contains(await output, "Not paused: the server does not know this session.");
    }

    /// <summary>The sample as built beside its own dependencies (bin/&lt;configuration&gt;/&lt;framework&gt; of its project, like this test's).</summary>
    private static string SampleProgram()
    {
        DirectoryInfo? root = new(AppContext.BaseDirectory);
        while (root is not null && !File.Exists(Path.Combine(root.FullName, "Rto.sln")))
        {
            root = root.Parent;
        }

        Assert.IsNotNull(root, $"no Rto.sln above {AppContext.BaseDirectory}");
        string output = Path.GetRelativePath(Path.Combine(root.FullName, "tests", "Rto.Server.Tests"), AppContext.BaseDirectory);
        return Path.Combine(root.FullName, "samples", "Rto.Samples.RtoConsole", output, "Rto.Samples.RtoConsole.dll");
    }
}
