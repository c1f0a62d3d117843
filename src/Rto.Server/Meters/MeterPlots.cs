using ScottPlot;

namespace Rto.Server.Meters;

/// <summary>Renders PNG line charts of a series with ScottPlot: title, axis labels with units, a date-time axis.</summary>
internal static class MeterPlots
{
    /// <summary>The PNG bytes of a line chart; with no points the chart says "No data".</summary>
    public static byte[] RenderPng(string title, string yLabel, IReadOnlyList<TimedValue> points, int width, int height)
    {
        using var plot = new Plot();
        plot.Title(title);
        plot.XLabel("Local time");
        plot.YLabel(yLabel);
        if (points.Count == 0)
        {
            plot.Add.Annotation("No data", Alignment.MiddleCenter);
        }
        else
        {
            var xs = new double[points.Count];
            var ys = new double[points.Count];
            for (int i = 0; i < points.Count; i++)
            {
                xs[i] = Rto.Protocols.Meters.MeterTimestamp.ToDateTime(points[i].Timestamp).ToOADate();
                ys[i] = points[i].Value;
            }

            var scatter = plot.Add.Scatter(xs, ys);
            scatter.MarkerSize = points.Count > 200 ? 0 : 4;
            plot.Axes.DateTimeTicksBottom();
        }

        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>Writes <paramref name="png"/> to <paramref name="path"/> atomically (readers never see a half-written file).</summary>
    public static void WriteAtomically(string path, byte[] png)
    {
        Directory.CreateDirectory(Path.GetDirectoryName(Path.GetFullPath(path))!);
        string temporary = path + ".tmp";
        File.WriteAllBytes(temporary, png);
        File.Move(temporary, path, overwrite: true);
    }
}
