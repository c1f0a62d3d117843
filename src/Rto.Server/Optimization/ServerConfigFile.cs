using System.Text.Json;

namespace Rto.Server.Optimization;

/// <summary>
/// The original RTO server's <c>server_config.json</c> (<c>{"port": 5089}</c>), read from the working
/// directory as the original read it from beside its program, so a deployment that kept that file
/// keeps its port. It sets <c>Optimization:Port</c> below environment variables and the command line
/// (either overrides it) and above appsettings.json. The original wrote the file when it was absent;
/// Rto never writes it.
/// </summary>
internal static class ServerConfigFile
{
    public const string FileName = "server_config.json";

    /// <summary>
    /// Adds the file's port to <paramref name="configuration"/> when <paramref name="directory"/> holds
    /// the file with a <c>port</c> member; returns the file's path and port, or <see langword="null"/>
    /// when there is no such file or member.
    /// </summary>
    /// <exception cref="InvalidOperationException">The file is not JSON or its port is not a port number: the server must not start on another port without a word.</exception>
    public static (string Path, int Port)? AddTo(IConfigurationBuilder configuration, string directory)
    {
        string path = System.IO.Path.GetFullPath(System.IO.Path.Combine(directory, FileName));
        if (!File.Exists(path))
        {
            return null;
        }

        int port;
        try
        {
            using JsonDocument document = JsonDocument.Parse(File.ReadAllBytes(path));
            if (document.RootElement.ValueKind != JsonValueKind.Object || !document.RootElement.TryGetProperty("port", out JsonElement member))
            {
                return null;
            }

            if (member.ValueKind != JsonValueKind.Number || !member.TryGetInt32(out port) || port is < 0 or > 65535)
            {
                throw new InvalidOperationException($"{path}: \"port\" must be a whole number from 0 to 65535, not {member.GetRawText()} (the file sets Optimization:Port, as it set the original RTO server's port).");
            }
        }
        catch (JsonException ex)
        {
            throw new InvalidOperationException($"{path} is not valid JSON ({ex.Message}); it sets Optimization:Port as it set the original RTO server's port: fix or remove it.", ex);
        }

        var source = new Microsoft.Extensions.Configuration.Memory.MemoryConfigurationSource
        {
            InitialData = [new($"{OptimizationOptions.SectionName}:{nameof(OptimizationOptions.Port)}", port.ToString(System.Globalization.CultureInfo.InvariantCulture))],
        };

        // Above the settings files, below the environment variables and the command line that follow
        // them (the host's own DOTNET_/ASPNETCORE_ variables and its early command-line copy come
        // before the files: not those).
        IList<IConfigurationSource> sources = configuration.Sources;
        int lastFile = -1;
        for (int i = 0; i < sources.Count; i++)
        {
            if (sources[i] is FileConfigurationSource)
            {
                lastFile = i;
            }
        }

        int below = sources.Count;
        for (int i = lastFile + 1; i < sources.Count; i++)
        {
            if (sources[i] is Microsoft.Extensions.Configuration.EnvironmentVariables.EnvironmentVariablesConfigurationSource { Prefix: null or "" } or Microsoft.Extensions.Configuration.CommandLine.CommandLineConfigurationSource)
            {
                below = i;
                break;
            }
        }

        sources.Insert(below, source);
        return (path, port);
    }
}
