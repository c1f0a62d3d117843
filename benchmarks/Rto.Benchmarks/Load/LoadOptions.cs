using System.Globalization;
using Rto.Server.Metrics;
using Rto.Server.Storage;

namespace Rto.Benchmarks.Load;

/// <summary>What a metrics load run sends.</summary>
internal enum LoadMode
{
    /// <summary><c>put</c> with increasing timestamps: every request appends a point.</summary>
    Put,

    /// <summary><c>get</c> of keys preloaded with a few points each.</summary>
    Get,

    /// <summary>Put <c>--total</c> points, then report the bytes per point held in memory and on disk.</summary>
    Size,

    /// <summary>Fill a store with <c>--total</c> points through its API, close it, and time opening it again.</summary>
    Restart,
}

/// <summary>The options of <c>load metrics</c>, parsed from <c>--name value</c> or <c>--name=value</c>.</summary>
internal sealed class LoadOptions
{
    public const string Usage = """
        Usage: load metrics|meters|messenger|optimization|connections|cluster [options]   (load <target> --help for the others' options)
               load metrics [options]
          --connections N   TCP connections (default 16)
          --pipeline N      requests kept in flight per connection (default 256)
          --duration S      measured seconds (default 10)
          --warmup S        seconds run before measuring (default 2)
          --mode put|get|size|restart
                            put: append points; get: read keys holding --points points (default put);
                            size: put --total points, report bytes per point in memory and on disk;
                            restart: fill a store with --total points (in-process), time reopening it
          --keys N          distinct keys per connection (default 1000; for restart: in all)
          --points N        points per key preloaded for --mode get (default 4)
          --total N         points for size/restart (default 12500000)
          --values P        repeat|sine|random values for size/restart (default repeat)
          --order O         increasing|decreasing timestamps per key for size/restart (default increasing)
          --interval S      seconds between a key's timestamps for size/restart (default 1)
          --data-dir PATH   with --port: the server's data directory, to measure its size
          --set NAME=VALUE  a setting of the in-process server (repeatable), e.g. --set Metrics:Retention=1:00:00
          --host ADDRESS    server address (default 127.0.0.1)
          --port N          use a running server; without it the server is started in-process
          --fsync P         Always|Interval|Never for the in-process server (default Interval)
          --server-pid N    with --port: report that process's working set
        """;

    public int Connections { get; private set; } = 16;

    public int Pipeline { get; private set; } = 256;

    public double DurationSeconds { get; private set; } = 10;

    public double WarmupSeconds { get; private set; } = 2;

    public LoadMode Mode { get; private set; } = LoadMode.Put;

    public int Keys { get; private set; } = 1000;

    public int PointsPerKey { get; private set; } = 4;

    public string Host { get; private set; } = "127.0.0.1";

    public int? Port { get; private set; }

    public FsyncPolicy Fsync { get; private set; } = FsyncPolicy.Interval;

    public int? ServerPid { get; private set; }

    public long TotalPoints { get; private set; } = 12_500_000;

    public ValuePattern Values { get; private set; } = ValuePattern.Repeat;

    public TimeOrder Order { get; private set; } = TimeOrder.Increasing;

    public int IntervalSeconds { get; private set; } = 1;

    public string? DataDirectory { get; private set; }

    public List<string> ServerSettings { get; } = [];

    public static LoadOptions Parse(string[] args)
    {
        var options = new LoadOptions();
        for (int i = 0; i < args.Length; i++)
        {
            string arg = args[i];
            if (!arg.StartsWith("--", StringComparison.Ordinal))
            {
                throw new FormatException($"Unexpected argument '{arg}'.");
            }

            int equals = arg.IndexOf('=', StringComparison.Ordinal);
            string name = equals < 0 ? arg[2..] : arg[2..equals];
            string value = equals >= 0 ? arg[(equals + 1)..]
                : i + 1 < args.Length ? args[++i]
                : throw new FormatException($"--{name} needs a value.");
            options.Set(name.ToLowerInvariant(), value);
        }

        return options;
    }

    private void Set(string name, string value)
    {
        switch (name)
        {
            case "connections": Connections = Int(name, value, 1, 10_000); break;
            case "pipeline": Pipeline = Int(name, value, 1, 1 << 20); break;
            case "duration": DurationSeconds = Seconds(name, value, 0.1); break;
            case "warmup": WarmupSeconds = Seconds(name, value, 0); break;
            case "mode": Mode = Enum<LoadMode>(name, value); break;
            case "keys": Keys = Int(name, value, 1, 10_000_000); break;
            case "points": PointsPerKey = Int(name, value, 1, 1_000_000); break;
            case "host": Host = value; break;
            case "port": Port = Int(name, value, 1, 65535); break;
            case "fsync": Fsync = Enum<FsyncPolicy>(name, value); break;
            case "server-pid": ServerPid = Int(name, value, 1, int.MaxValue); break;
            case "total": TotalPoints = long.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out long total) && total > 0 ? total : throw new FormatException($"--total must be a positive integer, not '{value}'."); break;
            case "values": Values = Enum<ValuePattern>(name, value); break;
            case "order": Order = Enum<TimeOrder>(name, value); break;
            case "interval": IntervalSeconds = Int(name, value, 1, 86_400); break;
            case "data-dir": DataDirectory = value; break;
            case "set": ServerSettings.Add("--" + value); break;
            default: throw new FormatException($"Unknown option --{name}.");
        }
    }

    private static int Int(string name, string value, int min, int max) =>
        int.TryParse(value, NumberStyles.None, CultureInfo.InvariantCulture, out int parsed) && parsed >= min && parsed <= max
            ? parsed
            : throw new FormatException($"--{name} must be an integer from {min} to {max}, not '{value}'.");

    private static double Seconds(string name, string value, double min) =>
        double.TryParse(value, NumberStyles.AllowDecimalPoint, CultureInfo.InvariantCulture, out double parsed) && parsed >= min && parsed <= 3600
            ? parsed
            : throw new FormatException($"--{name} must be a number of seconds from {min} to 3600, not '{value}'.");

    private static T Enum<T>(string name, string value)
        where T : struct, Enum =>
        System.Enum.TryParse(value, ignoreCase: true, out T parsed) && System.Enum.IsDefined(parsed)
            ? parsed
            : throw new FormatException($"--{name} must be one of {string.Join('|', System.Enum.GetNames<T>())}, not '{value}'.");
}
