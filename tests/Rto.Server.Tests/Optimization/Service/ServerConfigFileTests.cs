using Microsoft.Extensions.Configuration;
using Rto.Server.Optimization;

namespace Rto.Server.Tests.Optimization.Service;

/// <summary>The original RTO server's server_config.json sets the port below the environment and the command line.</summary>
[TestClass]
public sealed class ServerConfigFileTests
{
    [TestMethod]
    public void ItsPortOverridesAppSettingsButNotTheCommandLine()
    {
        string directory = WithFile("""{ "port": 5089 }""");

        ConfigurationManager plain = Configuration();
        (string Path, int Port)? used = ServerConfigFile.AddTo(plain, directory);
        ConfigurationManager commandLine = Configuration("--Optimization:Port=6000");
        ServerConfigFile.AddTo(commandLine, directory);

        Assert.AreEqual((Path.Combine(directory, ServerConfigFile.FileName), 5089), used);
        Assert.AreEqual("5089", plain["Optimization:Port"]);
        Assert.AreEqual("6000", commandLine["Optimization:Port"]);
    }

    [TestMethod]
    public void NoFileOrNoPortMemberChangesNothing()
    {
        ConfigurationManager configuration = Configuration();

        Assert.IsNull(ServerConfigFile.AddTo(configuration, TestServer.NewDataDirectory()));
        Assert.IsNull(ServerConfigFile.AddTo(configuration, WithFile("""{ "host": "localhost" }""")));
        Assert.AreEqual("5081", configuration["Optimization:Port"]);
    }

    [TestMethod]
    [DataRow("{ \"port\": ", "not valid JSON")]
    [DataRow("{ \"port\": \"5089\" }", "must be a whole number from 0 to 65535")]
    [DataRow("{ \"port\": 70000 }", "must be a whole number from 0 to 65535")]
    public void ABrokenFileStopsTheStartWithItsPath(string text, string expected)
    {
        string directory = WithFile(text);

        InvalidOperationException refused = Assert.ThrowsExactly<InvalidOperationException>(() => ServerConfigFile.AddTo(Configuration(), directory));

        StringAssert.Contains(refused.Message, expected);
        StringAssert.Contains(refused.Message, Path.Combine(directory, ServerConfigFile.FileName));
    }

    private static ConfigurationManager Configuration(params string[] args)
    {
        // The order WebApplication.CreateBuilder gives: host settings, appsettings.json, environment, command line.
        string settings = Path.Combine(TestServer.NewDataDirectory(), "appsettings.json");
        Directory.CreateDirectory(Path.GetDirectoryName(settings)!);
        File.WriteAllText(settings, """{ "Optimization": { "Port": 5081 } }""");
        var configuration = new ConfigurationManager();
        configuration.AddEnvironmentVariables("DOTNET_");
        configuration.AddCommandLine(args);
        configuration.AddJsonFile(settings);
        configuration.AddEnvironmentVariables();
        configuration.AddCommandLine(args);
        return configuration;
    }

    private static string WithFile(string text)
    {
        string directory = TestServer.NewDataDirectory();
        Directory.CreateDirectory(directory);
        File.WriteAllText(Path.Combine(directory, ServerConfigFile.FileName), text);
        return directory;
    }
}
