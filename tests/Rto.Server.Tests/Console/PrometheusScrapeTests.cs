using System.Globalization;
using System.Text.RegularExpressions;

namespace Rto.Server.Tests.Console;

/// <summary><c>/metrics</c> on the console port is the Prometheus text exposition of the <c>Rto.Server</c> instruments.</summary>
[TestClass]
public sealed partial class PrometheusScrapeTests
{
    [TestMethod]
    public async Task The_scrape_is_well_formed_and_counts_what_the_server_did()
    {
        await using TestServer server = await TestServer.StartAsync();
        await using (RawConnection metrics = await RawConnection.OpenAsync(server.MetricsEndPoint))
        {
            await metrics.SendAsync("put scrape.a 1 1700000000\nput scrape.a 2 1700000001\nthree bad lines\nnope\nget\n");
            await metrics.ExpectAsync("ok\n\nok\n\nerror\nwrong command\n\nerror\nwrong command\n\nerror\nwrong command\n\n");
        }

        using var http = new HttpClient { BaseAddress = server.ConsoleAddress, Timeout = TimeSpan.FromSeconds(30) };
        Exposition exposition = null!;

        // The exporter caches a scrape for a moment: read until the counts of this connection show.
        for (long deadline = Environment.TickCount64 + 30_000; ;)
        {
            using HttpResponseMessage response = await http.GetAsync("/metrics");
            Assert.AreEqual("text/plain", response.Content.Headers.ContentType!.MediaType);
            exposition = Exposition.Parse(await response.Content.ReadAsStringAsync());
            if (exposition.Value("rto_requests_total", ("endpoint", "metrics")) == 5 || Environment.TickCount64 > deadline)
            {
                break;
            }

            await Task.Delay(100);
        }

        Assert.AreEqual(5, exposition.Value("rto_requests_total", ("endpoint", "metrics")));
        Assert.AreEqual(3, exposition.Value("rto_errors_total", ("endpoint", "metrics"), ("reason", "malformed")));
        Assert.AreEqual(1, exposition.Value("rto_connections_opened_total", ("endpoint", "metrics")));
        Assert.AreEqual("counter", exposition.Types["rto_requests_total"]);
        Assert.AreEqual("counter", exposition.Types["rto_errors_total"]);
        Assert.AreEqual("gauge", exposition.Types["rto_connections_active"]);
        Assert.AreEqual("histogram", exposition.Types["rto_request_duration_seconds"]);
        Assert.AreEqual("Requests handled (lines, JSON objects, readings or gRPC calls).", exposition.Help["rto_requests_total"]);

        // A histogram: cumulative buckets ending in +Inf, whose count equals _count.
        List<Sample> buckets = [.. exposition.Samples.Where(s => s.Name == "rto_request_duration_seconds_bucket" && s.Labels["endpoint"] == "metrics")];
        Assert.IsGreaterThan(2, buckets.Count);
        Assert.AreEqual("+Inf", buckets[^1].Labels["le"]);
        for (int i = 1; i < buckets.Count; i++)
        {
            Assert.IsGreaterThanOrEqualTo(buckets[i - 1].Value, buckets[i].Value, "buckets are cumulative");
        }

        Assert.AreEqual(exposition.Value("rto_request_duration_seconds_count", ("endpoint", "metrics")), buckets[^1].Value);
        Assert.IsTrue(exposition.Types.ContainsKey("kestrel_active_connections"), "Kestrel's meter is exported too");
    }

    [TestMethod]
    public void The_checker_refuses_malformed_expositions()
    {
        Assert.ThrowsExactly<AssertFailedException>(() => Exposition.Parse("x_total 1\n"), "a sample without TYPE");
        Assert.ThrowsExactly<AssertFailedException>(() => Exposition.Parse("# TYPE x_total counter\n# HELP x_total X.\nx_total{a=\"1\" 1\n"), "a broken label set");
        Assert.ThrowsExactly<AssertFailedException>(() => Exposition.Parse("# TYPE x_total counter\n# HELP x_total X.\nx_total one\n"), "a value that is no number");
        Assert.AreEqual(2, Exposition.Parse("# TYPE x_total counter\n# HELP x_total X.\nx_total{a=\"q\\\"uote\"} 2\n").Value("x_total", ("a", "q\"uote")));
    }

    private sealed record Sample(string Name, Dictionary<string, string> Labels, double Value);

    /// <summary>
    /// The text exposition format (version 0.0.4): <c># HELP</c> and <c># TYPE</c> once per family,
    /// before its samples; samples <c>name{label="value",…} value [timestamp]</c>. Fails the test on anything else.
    /// </summary>
    private sealed partial class Exposition
    {
        public Dictionary<string, string> Types { get; } = [];

        public Dictionary<string, string> Help { get; } = [];

        public List<Sample> Samples { get; } = [];

        public static Exposition Parse(string text)
        {
            var exposition = new Exposition();
            foreach (string line in text.Split('\n'))
            {
                if (line.Length == 0)
                {
                    continue;
                }

                if (line.StartsWith('#'))
                {
                    Match comment = CommentLine().Match(line);
                    Assert.IsTrue(comment.Success, $"a comment line is HELP or TYPE: {line}");
                    Dictionary<string, string> into = comment.Groups[1].Value == "TYPE" ? exposition.Types : exposition.Help;
                    Assert.IsTrue(into.TryAdd(comment.Groups[2].Value, comment.Groups[3].Value), $"one {comment.Groups[1].Value} per family: {line}");
                    if (comment.Groups[1].Value == "TYPE")
                    {
                        CollectionAssert.Contains(new[] { "counter", "gauge", "histogram", "summary", "untyped" }, comment.Groups[3].Value, line);
                    }

                    continue;
                }

                Match sample = SampleLine().Match(line);
                Assert.IsTrue(sample.Success, $"a sample line: {line}");
                string name = sample.Groups[1].Value;
                string family = exposition.Types.ContainsKey(name) ? name : HistogramSuffix().Replace(name, "");
                Assert.IsTrue(exposition.Types.TryGetValue(family, out string? type), $"TYPE of {name} comes before its samples");
                Assert.IsTrue(family == name || type is "histogram" or "summary", $"{name} belongs to the {type} {family}");
                Assert.IsTrue(exposition.Help.ContainsKey(family), $"HELP of {family}");
                var labels = new Dictionary<string, string>();
                foreach (Match label in Label().Matches(sample.Groups[2].Value))
                {
                    labels.Add(label.Groups[1].Value, Regex.Unescape(label.Groups[2].Value));
                }

                string value = sample.Groups[3].Value;
                double parsed = value switch
                {
                    "+Inf" => double.PositiveInfinity,
                    "-Inf" => double.NegativeInfinity,
                    "NaN" => double.NaN,
                    _ => double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double v) ? v : throw new AssertFailedException($"not a number: {line}"),
                };
                exposition.Samples.Add(new Sample(name, labels, parsed));
            }

            return exposition;
        }

        /// <summary>The value of the one sample of <paramref name="name"/> with these labels (others may be present).</summary>
        public double Value(string name, params (string Key, string Value)[] labels) =>
            Samples.SingleOrDefault(s => s.Name == name && labels.All(l => s.Labels.GetValueOrDefault(l.Key) == l.Value))?.Value ?? double.NaN;

        [GeneratedRegex("""^# (HELP|TYPE) ([a-zA-Z_:][a-zA-Z0-9_:]*) (.*)$""")]
        private static partial Regex CommentLine();

        [GeneratedRegex("""^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{(?:[a-zA-Z_][a-zA-Z0-9_]*="(?:[^"\\]|\\.)*",?)*\})? (\S+)( -?\d+)?$""")]
        private static partial Regex SampleLine();

        [GeneratedRegex(@"([a-zA-Z_][a-zA-Z0-9_]*)=""((?:[^""\\]|\\.)*)""")]
        private static partial Regex Label();

        [GeneratedRegex("_(bucket|sum|count)$")]
        private static partial Regex HistogramSuffix();
    }
}
