using DuckDB.NET.Data;

namespace Rto.Server.Jobs;

/// <summary>
/// The sample a new user runs a job on: a time series (two sines, 50 Hz and 120 Hz, plus
/// deterministic noise, sampled at 1 kHz) as <c>time_series.parquet</c>, and one task of each kind.
/// </summary>
internal static class JobSamples
{
    public const string SeriesFile = "time_series.parquet";

    private static readonly (string Name, string Text)[] s_tasks =
    [
        ("fft.task", "# The FFT of column 'values' (the original example task).\nfft values\n"),
        ("stats.task", "# Summary statistics of column 'values'.\nstats values\n"),
        ("work.sql", "-- Mean and peak of each 100 ms window; the input is the table 'input'.\nSELECT floor(time * 10) / 10 AS window_start, avg(values) AS mean, max(values) AS peak\nFROM input\nGROUP BY 1\nORDER BY 1\n"),
    ];

    /// <summary>Creates the sample folder's missing files; existing ones are left alone.</summary>
    public static void EnsureCreated(string directory, long rows = 4096)
    {
        Directory.CreateDirectory(directory);
        string series = Path.Combine(directory, SeriesFile);
        if (!File.Exists(series))
        {
            WriteTimeSeries(series, rows);
        }

        foreach ((string name, string text) in s_tasks)
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                File.WriteAllText(path, text);
            }
        }
    }

    /// <summary>Writes <paramref name="rows"/> samples of the sample signal to a Parquet file.</summary>
    public static void WriteTimeSeries(string path, long rows)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(rows);
        string partial = path + ".partial";
        using (var db = new DuckDBConnection("DataSource=:memory:"))
        {
            db.Open();
            using DuckDBCommand command = db.CreateCommand();

            // The noise comes from a hash of the sample number, so every run writes the same file.
            command.CommandText = $"""
                COPY (
                  SELECT i AS sample, i / 1000.0 AS time,
                         sin(2 * pi() * 50 * i / 1000.0) + 0.5 * sin(2 * pi() * 120 * i / 1000.0)
                           + 0.2 * ((hash(i) % 2000001)::DOUBLE / 1000000.0 - 1.0) AS values
                  FROM range({rows}) AS t(i)
                  ORDER BY i
                ) TO '{partial.Replace("'", "''", StringComparison.Ordinal)}' (FORMAT PARQUET)
                """;
            command.ExecuteNonQuery();
        }

        File.Move(partial, path, overwrite: true);
    }
}
