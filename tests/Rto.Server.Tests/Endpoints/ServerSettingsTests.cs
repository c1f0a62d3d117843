using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Rto.Server.Endpoints;
using Rto.Server.Hosting;

namespace Rto.Server.Tests.Endpoints;

/// <summary>Every capability's settings go through the one validation, and a bad one stops the start with one clear line.</summary>
[TestClass]
public sealed class ServerSettingsTests
{
    [TestMethod]
    [DataRow("--Metrics:Port=70000", "Metrics:Port must be between 0 and 65535, not 70000.")]
    [DataRow("--Jobs:Port=-1", "Jobs:Port must be between 0 and 65535, not -1.")]
    [DataRow("--Health:Address=nowhere", "Health:Address 'nowhere' is not an IP address.")]
    [DataRow("--Meters:HttpPort=-2", "Meters:HttpPort must be between -1 and 65535, not -2.")]
    [DataRow("--Optimization:MaxSessions=0", "Optimization:MaxSessions (0)")]
    [DataRow("--Messenger:MaxConnections=0", "Messenger:MaxConnections must be at least 1, not 0.")]
    [DataRow("--Jobs:FrameTimeout=-00:00:01", "Jobs:FrameTimeout must be between 00:00:00 (off) and 49.00:00:00, not -00:00:01.")]
    [DataRow("--Meters:IdleTimeout=60.00:00:00", "Meters:IdleTimeout must be between 00:00:00 (off) and 49.00:00:00, not 60.00:00:00.")]
    public async Task A_bad_endpoint_setting_is_named_when_the_server_starts(string setting, string message)
    {
        InvalidOperationException error = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => TestServer.StartAsync(null, setting));
        StringAssert.Contains(error.Message, message);
    }

    [TestMethod]
    public async Task A_disabled_capability_is_neither_validated_nor_listening()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:Enabled=false", "--Jobs:Port=-1", "--Jobs:Address=nowhere");

        ServerEndpoints endpoints = server.Services.GetRequiredService<ServerEndpoints>();
        CollectionAssert.DoesNotContain(endpoints.Names.ToList(), EndpointNames.Jobs);
        CollectionAssert.Contains(endpoints.Names.ToList(), EndpointNames.Metrics);
    }

    [TestMethod]
    [DataRow("--Rto:Port=5090")]
    [DataRow("--Rto:AccessTokens:0=secret")]
    public void The_former_Rto_section_is_refused_by_name(string setting)
    {
        InvalidOperationException error = Assert.ThrowsExactly<InvalidOperationException>(() => RtoServer.Build([setting]));
        StringAssert.StartsWith(error.Message, "the settings section Rto is now Optimization");
    }

    [TestMethod]
    public async Task The_former_Rto_section_stops_the_program_with_one_line()
    {
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true, WorkingDirectory = directory };
        info.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "Rto.Server.dll"));
        info.ArgumentList.Add("--Rto:Port=5090");
        using Process process = Process.Start(info)!;
        Task<string> output = process.StandardOutput.ReadToEndAsync();
        string error = await process.StandardError.ReadToEndAsync();
        await process.WaitForExitAsync().WaitAsync(TimeSpan.FromSeconds(60));

        Assert.AreEqual(1, process.ExitCode);
        Assert.AreEqual("", await output);
        string[] lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.HasCount(1, lines, error);
        StringAssert.StartsWith(lines[0], "rto-server: cannot start: the settings section Rto is now Optimization: rename --Rto:");
    }
}
