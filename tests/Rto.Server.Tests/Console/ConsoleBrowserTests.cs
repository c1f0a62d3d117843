using Microsoft.Extensions.DependencyInjection;
using Microsoft.Playwright;
using Rto.Client.Jobs;
using Rto.Client.Messenger;
using Rto.Client.Meters;
using Rto.Client.Metrics;
using Rto.Client.Optimization;
using Rto.Protocols.Jobs;
using Rto.Protocols.Meters;
using Rto.Server.Jobs;
using static Microsoft.Playwright.Assertions;

namespace Rto.Server.Tests.Console;

/// <summary>
/// Every console page in a real browser against a real server: drive the server through its clients
/// and watch the page follow, and fail on any error the page logs. With <c>RTO_CONSOLE_SCREENSHOTS=docs/images</c>
/// each test also saves its page (the README's tour).
/// </summary>
[TestClass]
public sealed class ConsoleBrowserTests
{
    private static readonly HeldJobs s_held = new();
    private static ConsoleBrowser s_browser = null!;
    private static TestServer s_server = null!;

    /// <summary>Holds the jobs whose task file starts with <c>held</c> until released, so they show as running and queued.</summary>
    private sealed class HeldJobs : JobRunObserver
    {
        public TaskCompletionSource Release { get; } = new(TaskCreationOptions.RunContinuationsAsynchronously);

        public override Task OnJobStartingAsync(JobRequest request, CancellationToken cancellationToken) =>
            request.File?.StartsWith("held", StringComparison.Ordinal) == true ? Release.Task.WaitAsync(cancellationToken) : Task.CompletedTask;
    }

    [ClassInitialize]
    public static async Task StartAsync(TestContext context)
    {
        // Power every 50 ms, so streamed readings become a power curve within a test.
        s_server = await TestServer.StartAsync(null, builder => builder.Services.AddSingleton<JobRunObserver>(s_held), "--Meters:PowerInterval=00:00:00.05");
        s_browser = await ConsoleBrowser.LaunchAsync();
    }

    [ClassCleanup]
    public static async Task StopAsync()
    {
        s_held.Release.TrySetResult();
        await s_browser.DisposeAsync();
        await s_server.DisposeAsync();
    }

    private static Uri Page(string path) => new(s_server.ConsoleAddress, path);

    [TestMethod]
    public async Task An_optimization_session_chart_gains_points_as_iterations_arrive()
    {
        await using var client = await OptimizationClient.ConnectAsync("127.0.0.1", s_server.OptimizationEndPoint.Port);
        var definition = new OptimizationSessionDefinition(
            [new ManipulatedVariable("feed", -5, 5, Name: "feed rate"), new ManipulatedVariable("temp", -5, 5, Name: "temperature")],
            [new ControlledVariable("load", -1, 2.5, "column load"), new ControlledVariable("purity", Lower: 0.2, Name: "purity")],
            MaxIterations: 40);
        string id = await client.StartAsync(definition);
        OptimizationIteration iteration = await client.IterateAsync(id, null);
        async Task EvaluateAsync(int count)
        {
            for (int i = 0; i < count; i++)
            {
                iteration = await client.IterateAsync(id, Evaluate(iteration));
            }
        }

        // Two more sessions, one run to its end and one paused, for the table's other states.
        string completed = await client.StartAsync(definition with { MaxIterations = 6, Method = "TestStepOpt" });
        for (OptimizationIteration other = await client.IterateAsync(completed, null); other.State != OptimizationIterationState.Completed;)
        {
            other = await client.IterateAsync(completed, Evaluate(other));
        }

        string paused = await client.StartAsync(definition with { MaxIterations = 60, Method = "EvolutionaryOpt" });
        OptimizationIteration last = await client.IterateAsync(paused, null);
        for (int i = 0; i < 9; i++)
        {
            last = await client.IterateAsync(paused, Evaluate(last));
        }

        Assert.IsTrue(await client.PauseAsync(paused));
        await EvaluateAsync(12);
        await using (ConsolePage list = await s_browser.OpenAsync(Page("/ui/optimization")))
        {
            ILocator rows = list["#sessions tbody tr"];
            await Expect(rows.Filter(new() { HasText = completed[..8] })).ToContainTextAsync("completed");
            await Expect(rows.Filter(new() { HasText = completed[..8] })).ToContainTextAsync("6 / 6");
            await Expect(rows.Filter(new() { HasText = paused[..8] })).ToContainTextAsync("paused");
            ILocator row = rows.Filter(new() { HasText = id[..8] });
            await Expect(row).ToContainTextAsync("12 / 40");
            await Expect(row).ToContainTextAsync("running");
            await list.SaveScreenshotAsync("console-optimization");
            await row.Locator("a").ClickAsync();
            await Expect(list.Page).ToHaveURLAsync(Page($"/ui/optimization/{id}").ToString());
            list.AssertNoErrors();
        }

        await using ConsolePage page = await s_browser.OpenAsync(Page($"/ui/optimization/{id}"));
        await page.WaitForChartPointsAsync("objective-chart", 12);
        await Expect(page["#session-state"]).ToHaveTextAsync("running");
        await Expect(page["#best-mvs tbody tr"]).ToHaveCountAsync(2);
        await Expect(page["#best-cvs tbody tr"]).ToHaveCountAsync(2);
        await page.WaitForChartPointsAsync("cv-chart-0", 12);

        // Iterations arriving while the page is open are pushed to it.
        await EvaluateAsync(13);
        await page.WaitForChartPointsAsync("objective-chart", 25);
        Assert.AreEqual(25, await page.ChartPointsAsync("cv-chart-1"));
        await Expect(page["#best-summary"]).ToContainTextAsync("of 25");
        await page.SaveScreenshotAsync("console-session");
        page.AssertNoErrors();
    }

    /// <summary>A made-up plant: a bowl with a ripple as the objective, two CVs that fight it.</summary>
    private static OptimizationEvaluation Evaluate(OptimizationIteration candidate)
    {
        double x = candidate.Mvs[0], y = candidate.Mvs[1];
        double objective = Math.Pow(x - 1, 2) + Math.Pow(y + 2, 2) + (0.3 * Math.Sin(3 * x));
        return new OptimizationEvaluation(objective, new Dictionary<string, double> { ["load"] = x - (0.5 * y), ["purity"] = 1 - (0.05 * ((x * x) + (y * y))) });
    }

    [TestMethod]
    public async Task Streamed_meter_readings_show_as_voltage_current_and_power_with_rejections_by_reason()
    {
        await using ConsolePage page = await s_browser.OpenAsync(Page("/ui/meters"));
        await Expect(page["#meters tbody tr"]).ToHaveCountAsync(5);

        // A minute of readings from every meter, streamed in steps so the power calculator sees them arrive.
        DateTime start = DateTime.Now.AddSeconds(-60);
        await using (var meters = await MetersClient.ConnectAsync(s_server.MetersEndPoint))
        {
            for (int step = 0; step < 30; step++)
            {
                await meters.SendManyAsync(Enumerable.Range(step * 20, 20).SelectMany(i => Readings(start.AddMilliseconds(i * 100), i)));
                await Task.Delay(60);
            }

            await meters.SendLineAsync($"10.0.0.1\t{MeterTimestamp.ToString(MeterTimestamp.FromDateTime(DateTime.Now))}\t999");
            await meters.SendLineAsync($"10.9.9.9\t{MeterTimestamp.ToString(MeterTimestamp.FromDateTime(DateTime.Now))}\t1");
            await meters.SendLineAsync("garbage");
        }

        await page.WaitForChartPointsAsync("voltage-chart", 600);
        await page.WaitForChartPointsAsync("power-chart", 5);
        await Expect(page["#power-latest"]).ToContainTextAsync(" W");
        await Expect(page["#meters tbody tr"].Filter(new() { HasText = "10.0.0.5" })).ToContainTextAsync(" A");
        ILocator rejections = page["#rejections tbody tr"];
        await Expect(rejections.Filter(new() { HasText = "accepted" })).ToContainTextAsync("3,000");
        await Expect(rejections.Filter(new() { HasText = "out of range" })).ToContainTextAsync("1");
        await Expect(rejections.Filter(new() { HasText = "unknown meter" })).ToContainTextAsync("1");
        await Expect(rejections.Filter(new() { HasText = "malformed" })).ToContainTextAsync("1");
        await page.SaveScreenshotAsync("console-meters");
        page.AssertNoErrors();
    }

    private static IEnumerable<MeterReading> Readings(DateTime at, int i)
    {
        long t = MeterTimestamp.FromDateTime(at);
        double phase = i / 40.0;
        yield return new MeterReading(MetersClient.ParseIPv4("10.0.0.1"), t, 100 + (6 * Math.Sin(phase)));
        yield return new MeterReading(MetersClient.ParseIPv4("10.0.0.4"), t, 228 + (9 * Math.Sin(phase + 1)));
        yield return new MeterReading(MetersClient.ParseIPv4("10.0.0.2"), t, 0.3 + (0.12 * Math.Sin(phase * 1.7)));
        yield return new MeterReading(MetersClient.ParseIPv4("10.0.0.3"), t, 0.6 + (0.25 * Math.Cos(phase)));
        yield return new MeterReading(MetersClient.ParseIPv4("10.0.0.5"), t, 2.5 + Math.Sin(phase * 0.8));
    }

    [TestMethod]
    public async Task Put_metrics_are_found_by_prefix_and_plotted_live()
    {
        long now = DateTimeOffset.UtcNow.ToUnixTimeSeconds();
        await using MetricsClient metrics = await MetricsClient.ConnectAsync(s_server.MetricsEndPoint);
        await metrics.PutManyAsync(Enumerable.Range(0, 180).SelectMany(i => new[]
        {
            new MetricSample("plant.boiler.temp", 80 + (5 * Math.Sin(i / 12.0)) + (i / 60.0), now - 1800 + (i * 10)),
            new MetricSample("plant.boiler.pressure", 72 + (4 * Math.Cos(i / 20.0)), now - 1800 + (i * 10)),
        }));
        await metrics.PutAsync("plant.feed.flow", 12, now);

        await using ConsolePage page = await s_browser.OpenAsync(Page("/ui/metrics"));
        await page["#prefix"].FillAsync("plant.boiler");
        await Expect(page["#keys li"]).ToHaveCountAsync(2);
        await Expect(page["#keys-summary"]).ToContainTextAsync("2 of");
        await page["#keys input[value='plant.boiler.temp']"].CheckAsync();
        await page["#keys input[value='plant.boiler.pressure']"].CheckAsync();
        await page.WaitForChartPointsAsync("metrics-chart", 180);
        await Expect(page["#metrics-summary"]).ToContainTextAsync("plant.boiler.temp: 180 points");

        // Live: a new point is plotted without touching the page.
        await metrics.PutAsync("plant.boiler.temp", 90, now + 1);
        await page.WaitForChartPointsAsync("metrics-chart", 181);
        await page.SaveScreenshotAsync("console-metrics");
        page.AssertNoErrors();
    }

    [TestMethod]
    public async Task Jobs_show_running_and_queued_with_elapsed_time_then_their_results_and_errors()
    {
        string sample = Path.Combine(s_server.JobsRoot, "sample");
        JobResponse done = await JobsClient.SendOnceAsync(s_server.JobsEndPoint, new JobRequest { Directory = sample, Base = "time_series.parquet", File = "stats.task" });
        Assert.IsTrue(done.IsComplete, done.DiscriptionText);
        JobResponse failed = await JobsClient.SendOnceAsync(s_server.JobsEndPoint, new JobRequest { Directory = sample, Base = "time_series.parquet", File = "missing.task" });
        Assert.IsFalse(failed.IsComplete);

        // Two slots: two held jobs run, the third waits.
        Task<JobResponse>[] held = [.. Enumerable.Range(1, 3).Select(i => JobsClient.SendOnceAsync(s_server.JobsEndPoint, new JobRequest { Directory = sample, Base = "time_series.parquet", File = $"held-{i}.task" }))];
        await using ConsolePage page = await s_browser.OpenAsync(Page("/ui/jobs"));
        await Expect(page["#running tbody tr"]).ToHaveCountAsync(2);
        await Expect(page["#queued tbody tr"]).ToHaveCountAsync(1);
        await Expect(page["#recent tbody tr"].Filter(new() { HasText = "stats_ansver.parquet" })).ToHaveCountAsync(1);
        await Expect(page["#recent tbody tr"].Filter(new() { HasText = "missing.task" })).ToContainTextAsync("error");
        string elapsed = await page["#running tbody tr td.num"].First.TextContentAsync() ?? "";
        await Expect(page["#running tbody tr td.num"].First).Not.ToHaveTextAsync(elapsed);
        await page.SaveScreenshotAsync("console-jobs");

        s_held.Release.TrySetResult();
        await Task.WhenAll(held);
        await Expect(page["#running tbody tr td.empty"]).ToHaveTextAsync("no job running");
        await Expect(page["#recent tbody tr"].Filter(new() { HasText = "held-" })).ToHaveCountAsync(3);
        page.AssertNoErrors();
    }

    [TestMethod]
    public async Task Chat_messages_appear_as_they_are_sent()
    {
        await using var chat = await MessengerClient.ConnectAsync("127.0.0.1", s_server.MessengerEndPoint.Port);
        await chat.SendAsync("operator", "Starting the morning optimization run on column 2");
        await using ConsolePage page = await s_browser.OpenAsync(Page("/ui/messenger"));
        await Expect(page["#messages li"].Filter(new() { HasText = "morning optimization run" })).ToHaveCountAsync(1);

        await chat.SendAsync("alice", "Boiler 2 is back online");
        await chat.SendAsync("bob", "Meter 10.0.0.3 reads low, checking the wiring");
        await Expect(page["#messages li"].Last).ToContainTextAsync("checking the wiring");
        await Expect(page["#messages li"].Filter(new() { HasText = "Boiler 2 is back online" })).ToContainTextAsync("alice");
        await page.SaveScreenshotAsync("console-chat");
        page.AssertNoErrors();
    }

    [TestMethod]
    public async Task With_tokens_the_browser_is_sent_to_the_login_form_and_in_with_the_right_token()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Console:AccessTokens:0=plant-token");
        await using ConsolePage page = await s_browser.OpenAsync(new Uri(server.ConsoleAddress, "/ui/jobs"));
        await Expect(page.Page).ToHaveURLAsync(new Uri(server.ConsoleAddress, "/login?returnUrl=%2Fui%2Fjobs").ToString());
        await page["#token"].FillAsync("wrong");
        await page["#login"].ClickAsync();
        await Expect(page["#login-error"]).ToHaveTextAsync("That token is not accepted.");
        await page["#token"].FillAsync("plant-token");
        await page["#login"].ClickAsync();
        await Expect(page.Page).ToHaveURLAsync(new Uri(server.ConsoleAddress, "/ui/jobs").ToString());
        await Expect(page["#jobs-summary"]).ToContainTextAsync("slots busy");
        await Expect(page["header .logout"]).ToBeVisibleAsync();
        page.AssertNoErrors();
    }

    /// <summary>Last in the class (tests run in declaration order), so its screenshot shows every endpoint's traffic.</summary>
    [TestMethod]
    public async Task The_overview_shows_every_endpoint_with_its_address_traffic_and_health()
    {
        await using ConsolePage page = await s_browser.OpenAsync(Page("/"));
        await Expect(page.Page).ToHaveURLAsync(Page("/ui/overview").ToString());
        ILocator rows = page["#endpoints tbody tr"];
        await Expect(rows).ToHaveCountAsync(8);
        await Expect(rows.Filter(new() { HasText = "put/get text protocol" })).ToContainTextAsync(s_server.MetricsEndPoint.ToString());
        await Expect(page["#health-status"]).ToHaveTextAsync(new System.Text.RegularExpressions.Regex("^(Healthy|Degraded)$"));
        await Expect(page["#health tbody tr"]).ToHaveCountAsync(5);

        // Requests and errors arrive live.
        await using (MetricsClient metrics = await MetricsClient.ConnectAsync(s_server.MetricsEndPoint))
        {
            for (int burst = 0; burst < 8; burst++)
            {
                await metrics.PutManyAsync(Enumerable.Range(0, 100 * (burst + 1)).Select(i => new MetricSample("overview.load", i, 1_700_000_000 + (burst * 1000) + i)));
                await Task.Delay(400);
            }
        }

        await using (RawConnection raw = await RawConnection.OpenAsync(s_server.MetricsEndPoint))
        {
            await raw.SendAsync("not a request\n");
            await raw.ExpectAsync("error\nwrong command\n\n");
        }

        ILocator metricsRow = rows.Filter(new() { HasText = "put/get text protocol" });
        await Expect(metricsRow.Locator("td").Nth(5)).Not.ToHaveTextAsync("0");
        await Expect(metricsRow).ToContainTextAsync("malformed 1");
        await page.WaitForChartPointsAsync("rate-chart", 3);
        await page.SaveScreenshotAsync("console-overview");
        page.AssertNoErrors();
    }
}
