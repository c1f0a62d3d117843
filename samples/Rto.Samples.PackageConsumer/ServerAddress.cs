using System.Globalization;

namespace Rto.Samples.PackageConsumer;

/// <summary>Where the server's endpoints are; the defaults are the server's default ports.</summary>
internal sealed record ServerAddress(string Host, int MetricsPort, int JobsPort, int MessengerPort, int MetersPort, int MetersHttpPort, int OptimizationPort)
{
    public const string Usage =
        "usage: Rto.Samples.PackageConsumer [--host 127.0.0.1] [--metrics-port 8888] [--jobs-port 27700] " +
        "[--messenger-port 51075] [--meters-port 44444] [--meters-http-port 8090] [--optimization-port 5081]";

    /// <exception cref="FormatException">An unknown option, a missing value or a bad port.</exception>
    public static ServerAddress Parse(string[] args)
    {
        var address = new ServerAddress("127.0.0.1", 8888, 27700, 51075, 44444, 8090, 5081);
        for (int i = 0; i < args.Length; i += 2)
        {
            if (i + 1 >= args.Length)
            {
                throw new FormatException($"{args[i]} needs a value.");
            }

            string value = args[i + 1];
            address = args[i] switch
            {
                "--host" => address with { Host = value },
                "--metrics-port" => address with { MetricsPort = Port(args[i], value) },
                "--jobs-port" => address with { JobsPort = Port(args[i], value) },
                "--messenger-port" => address with { MessengerPort = Port(args[i], value) },
                "--meters-port" => address with { MetersPort = Port(args[i], value) },
                "--meters-http-port" => address with { MetersHttpPort = Port(args[i], value) },
                "--optimization-port" => address with { OptimizationPort = Port(args[i], value) },
                _ => throw new FormatException($"Unknown option {args[i]}."),
            };
        }

        return address;
    }

    private static int Port(string option, string value) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int port) && port is > 0 and <= 65535
            ? port
            : throw new FormatException($"{option} must be a port number (1-65535), not '{value}'.");
}
