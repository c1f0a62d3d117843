using System.Diagnostics;
using System.Globalization;
using System.Text.RegularExpressions;

namespace Rto.Server.Meters;

/// <summary>Where the power points are written (<see cref="MetersOptions.PowerLogLayout"/>).</summary>
public enum PowerLogLayout
{
    /// <summary><c>{DataDirectory}/power.log</c>, appended across runs and replayed at start.</summary>
    Single,

    /// <summary>
    /// The original server's layout: a new <c>{PowerLogDirectory}/yyyy-MM-dd-HH-mm-ss.txt</c> per
    /// run, named after the local time the server started, created with the run's first point.
    /// </summary>
    PerRun,
}

/// <summary>
/// The power log in either layout. Both write the original's lines (<see cref="PowerLogLine"/>)
/// and restore the kept power points at start; only <see cref="PowerLogLayout.Single"/> is cut back
/// to its last whole line after a crash, since a per-run file of an earlier run is never written again.
/// </summary>
internal sealed partial class PowerLog : IDisposable
{
    private readonly MetersOptions _options;
    private readonly Lock _lock = new();
    private MeterLogFile? _file;

    private PowerLog(MetersOptions options, string path, MeterLogFile? file)
    {
        _options = options;
        Path = path;
        _file = file;
    }

    /// <summary>The file this run appends to (under <see cref="PowerLogLayout.PerRun"/> it exists once a point was written).</summary>
    public string Path { get; }

    /// <summary>Called (on a timer thread) when an interval fsync fails.</summary>
    public Action<Exception>? FsyncFailed { get; set; }

    /// <summary>Opens the log of <paramref name="options"/>' layout and replays the kept points, oldest first, to <paramref name="onPoint"/>.</summary>
    public static PowerLog Open(MetersOptions options, DateTime startedAt, Action<TimedValue> onPoint, out LogReplay replay)
    {
        LogLineHandler handler = line =>
        {
            if (!PowerLogLine.TryParse(line, out TimedValue point))
            {
                return false;
            }

            onPoint(point);
            return true;
        };

        if (options.PowerLogLayout == PowerLogLayout.Single)
        {
            Directory.CreateDirectory(options.DataDirectory);
            string path = System.IO.Path.Combine(options.DataDirectory, "power.log");
            return new PowerLog(options, path, MeterLogFile.Open(path, options.Fsync, options.FsyncInterval, long.MaxValue, 0, handler, out replay));
        }

        // As the original named it: datetime.now().strftime("%Y-%m-%d-%H-%M-%S") + ".txt".
        string runPath = System.IO.Path.Combine(options.PowerLogDirectory, startedAt.ToString("yyyy-MM-dd-HH-mm-ss", CultureInfo.InvariantCulture) + ".txt");
        replay = ReplayRuns(options.PowerLogDirectory, options.PowerHistory, handler);
        return new PowerLog(options, runPath, file: null);
    }

    /// <summary>Appends one line; under <see cref="PowerLogLayout.PerRun"/> the first one creates the run's file.</summary>
    public void Append(ReadOnlySpan<byte> line)
    {
        lock (_lock)
        {
            if (_file is null)
            {
                Directory.CreateDirectory(System.IO.Path.GetDirectoryName(System.IO.Path.GetFullPath(Path))!);

                // A restart within the same second reopens the same name, as the original did; its
                // points were replayed with the earlier runs, so they are not read again here.
                _file = MeterLogFile.Open(Path, _options.Fsync, _options.FsyncInterval, long.MaxValue, 0, static _ => true, out _);
                _file.FsyncFailed = FsyncFailed;
            }

            _file.Append(line);
        }
    }

    public void Dispose()
    {
        lock (_lock)
        {
            _file?.Dispose();
        }
    }

    /// <summary>The latest runs' files, enough of them to hold <paramref name="keep"/> points, replayed oldest first and left as they are.</summary>
    private static LogReplay ReplayRuns(string directory, int keep, LogLineHandler handler)
    {
        var clock = Stopwatch.StartNew();
        if (!Directory.Exists(directory))
        {
            return new LogReplay(0, 0, 0, clock.Elapsed);
        }

        // The names sort by start time.
        string[] runs = [.. Directory.EnumerateFiles(directory, "*.txt").Where(f => RunFileName().IsMatch(System.IO.Path.GetFileName(f))).Order(StringComparer.Ordinal)];
        int first = runs.Length;
        long lines = 0;
        while (first > 0 && lines < keep)
        {
            first--;
            lines += CountLines(runs[first]);
        }

        long replayed = 0, corrupt = 0, torn = 0;
        for (int i = first; i < runs.Length; i++)
        {
            MeterLogFile.ReplayFile(runs[i], handler, ref replayed, ref corrupt, ref torn);
        }

        return new LogReplay(replayed, corrupt, torn, clock.Elapsed);
    }

    private static long CountLines(string path)
    {
        using var file = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.ReadWrite | FileShare.Delete, 1, FileOptions.SequentialScan);
        byte[] buffer = new byte[64 * 1024];
        long count = 0;
        int read;
        while ((read = file.Read(buffer)) > 0)
        {
            count += buffer.AsSpan(0, read).Count((byte)'\n');
        }

        return count;
    }

    [GeneratedRegex(@"^[0-9]{4}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}-[0-9]{2}\.txt$", RegexOptions.CultureInvariant)]
    private static partial Regex RunFileName();
}
