namespace Rto.Server.Jobs;

/// <summary>The built-in column operations a <c>.task</c> file can name.</summary>
internal enum ColumnOperation
{
    /// <summary>The discrete Fourier transform of the column (the original example task).</summary>
    Fft,

    /// <summary>Summary statistics of the column.</summary>
    Stats,
}

/// <summary>
/// A parsed <c>.task</c> file: one line <c>&lt;operation&gt; &lt;column&gt;</c>, e.g. <c>fft values</c>;
/// blank lines and lines starting with <c>#</c> are ignored.
/// </summary>
internal readonly record struct JobTask(ColumnOperation Operation, string Column)
{
    public static bool TryParse(string text, out JobTask task, out string error)
    {
        task = default;
        string[] lines = [.. text.Split('\n').Select(l => l.Trim()).Where(l => l.Length > 0 && !l.StartsWith('#'))];
        if (lines.Length != 1)
        {
            error = "A .task file must hold exactly one line '<operation> <column>' (operations: fft, stats).";
            return false;
        }

        string[] parts = lines[0].Split([' ', '\t'], 2, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        if (parts.Length != 2)
        {
            error = $"Task '{lines[0]}' must name an operation and a column, e.g. 'fft values'.";
            return false;
        }

        ColumnOperation? operation = parts[0].ToLowerInvariant() switch
        {
            "fft" => ColumnOperation.Fft,
            "stats" => ColumnOperation.Stats,
            _ => null,
        };
        if (operation is null)
        {
            error = $"Unknown task operation '{parts[0]}'; the operations are fft and stats.";
            return false;
        }

        task = new JobTask(operation.Value, parts[1]);
        error = string.Empty;
        return true;
    }
}
