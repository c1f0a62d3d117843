using Microsoft.Extensions.Options;
using Microsoft.Extensions.Primitives;
using Rto.Server.Jobs;
using Rto.Server.Messenger;
using Rto.Server.Meters;
using Rto.Server.Metrics;
using Rto.Server.Optimization;

namespace Rto.Server.Console;

/// <summary>
/// The console's routes: one page per capability under <c>/ui</c>, its data under <c>/api</c> (a JSON
/// snapshot and a server-sent event stream), the assets under <c>/assets</c>. A page of a capability
/// that is switched off says so instead of showing empty charts.
/// </summary>
internal static class ConsoleRoutes
{
    /// <summary>Marks the console's endpoints, which answer on the console port only.</summary>
    public sealed class Route;

    public static void Map(WebApplication app, ConsoleOptions options)
    {
        TimeSpan interval = ConsoleStream.IntervalOf(options);
        int maxPoints = options.MaxChartPoints;
        RouteGroupBuilder console = app.MapGroup("").WithMetadata(new Route()).ExcludeFromDescription();

        console.MapGet("/", () => Results.Redirect(ConsolePages.OverviewPath));
        console.MapGet($"{ConsolePages.AssetsPath}/{{name}}", (HttpContext context, string name) => ConsolePages.Asset(context, name));
        MapOverview(console, interval);
        MapOptimization(console, interval);
        MapMeters(console, interval, maxPoints);
        MapMetrics(console, maxPoints);
        MapJobs(console, interval);
        MapMessenger(console, interval);
    }

    private static void MapOverview(RouteGroupBuilder console, TimeSpan interval)
    {
        console.MapGet(ConsolePages.OverviewPath, (HttpContext context) => ConsolePages.PageAsync(context, "Overview", ConsolePages.OverviewPath, """
            <h1>Overview</h1>
            <p class="muted" id="uptime"></p>
            <section class="card"><h2>Endpoints</h2>
            <table id="endpoints"><thead><tr><th>endpoint</th><th>address</th><th>protocol</th><th class="num">connections</th><th class="num">opened</th><th class="num">requests</th><th class="num">requests/s</th><th class="num">errors</th><th>errors by reason</th><th class="num">mean time</th><th class="num">in</th><th class="num">out</th></tr></thead><tbody></tbody></table>
            </section>
            <section class="card"><h2>Requests per second</h2><div id="rate-chart" class="chart"></div></section>
            <section class="card"><h2>Health <span id="health-status" class="badge"></span></h2>
            <table id="health"><thead><tr><th>entry</th><th>status</th><th>description</th></tr></thead><tbody></tbody></table>
            </section>
            """, "overview.js"));
        console.MapGet("/api/overview", (OverviewView view) => Results.Json(view.Snapshot(withHistory: true), ConsoleStream.Json));
        console.MapGet("/api/overview/stream", (HttpContext context, OverviewView view) => ConsoleStream.ServeAsync(context, interval, view.Stream()));
    }

    private static void MapOptimization(RouteGroupBuilder console, TimeSpan interval)
    {
        console.MapGet("/ui/optimization", (HttpContext context) => ConsolePages.PageAsync(context, "Optimization", "/ui/optimization", """
            <h1>Optimization sessions</h1>
            <p class="muted" id="sessions-summary"></p>
            <section class="card">
            <table id="sessions"><thead><tr><th>session</th><th>started</th><th>method</th><th>model</th><th>state</th><th>evaluations</th><th class="num">best objective</th><th>feasible</th></tr></thead><tbody></tbody></table>
            </section>
            """, "optimization.js"));
        console.MapGet("/ui/optimization/{id}", (HttpContext context, string id) => ConsolePages.PageAsync(context, "Session", "/ui/optimization", """
            <h1>Session <span id="session-id"></span> <span id="session-state" class="badge"></span></h1>
            <p class="muted" id="session-info"></p>
            <section class="card"><h2>Objective and best so far</h2><div id="objective-chart" class="chart"></div></section>
            <section class="card"><h2>Controlled variables against their limits</h2><div id="cv-charts" class="charts"></div><p class="muted" id="no-cvs" hidden>This session has no CVs.</p></section>
            <section class="card"><h2>Best point <span id="best-summary" class="muted"></span></h2>
            <table id="best-mvs"><thead><tr><th>MV</th><th>name</th><th>type</th><th class="num">value</th><th class="num">lower</th><th class="num">upper</th></tr></thead><tbody></tbody></table>
            <table id="best-cvs"><thead><tr><th>CV</th><th>name</th><th class="num">value</th><th class="num">lower</th><th class="num">upper</th><th>within limits</th></tr></thead><tbody></tbody></table>
            </section>
            """, "session.js", new Dictionary<string, string> { ["session"] = id }));
        console.MapGet("/api/optimization/sessions", (IServiceProvider services) =>
            Enabled<OptimizationOptions>(services) ? Results.Json(services.GetRequiredService<OptimizationView>().List(), ConsoleStream.Json) : Off("Optimization"));
        console.MapGet("/api/optimization/stream", (HttpContext context) =>
            Stream<OptimizationOptions>(context, interval, "Optimization", () => context.RequestServices.GetRequiredService<OptimizationView>().ListStream()));
        console.MapGet("/api/optimization/{id}/stream", (HttpContext context, string id) =>
            Stream<OptimizationOptions>(context, interval, "Optimization", () => context.RequestServices.GetRequiredService<OptimizationView>().SessionStream(id)));
    }

    private static void MapMeters(RouteGroupBuilder console, TimeSpan interval, int maxPoints)
    {
        console.MapGet("/ui/meters", (HttpContext context) => ConsolePages.PageAsync(context, "Meters", "/ui/meters", """
            <h1>Meters</h1>
            <p class="controls"><label>Window <select id="window">
              <option value="60">last minute</option><option value="300" selected>last 5 minutes</option><option value="900">last 15 minutes</option>
              <option value="3600">last hour</option><option value="86400">last day</option></select></label>
              <span class="muted" id="meters-summary"></span></p>
            <section class="card"><h2>Power, W <span id="power-latest" class="muted"></span></h2><div id="power-chart" class="chart"></div></section>
            <section class="card"><h2>Voltage, V</h2><div id="voltage-chart" class="chart"></div></section>
            <section class="card"><h2>Current, A</h2><div id="current-chart" class="chart"></div></section>
            <section class="card split even">
            <div><h2>Meters</h2><table id="meters"><thead><tr><th>meter</th><th>unit</th><th class="num">range</th><th class="num">latest</th><th class="num">readings in window</th></tr></thead><tbody></tbody></table></div>
            <div><h2>Readings</h2><table id="rejections"><thead><tr><th>outcome</th><th class="num">count</th></tr></thead><tbody></tbody></table></div>
            </section>
            """, "meters.js"));
        console.MapGet("/api/meters", (IServiceProvider services, double? window) =>
            Enabled<MetersOptions>(services) ? Results.Json(services.GetRequiredService<MetersView>().Snapshot(Window(window), maxPoints), ConsoleStream.Json) : Off("Meters"));
        console.MapGet("/api/meters/stream", (HttpContext context, double? window) =>
            Stream<MetersOptions>(context, interval, "Meters", () => context.RequestServices.GetRequiredService<MetersView>().Stream(Window(window), maxPoints)));
    }

    private static void MapMetrics(RouteGroupBuilder console, int maxPoints)
    {
        console.MapGet("/ui/metrics", (HttpContext context) => ConsolePages.PageAsync(context, "Metrics", "/ui/metrics", """
            <h1>Metrics</h1>
            <section class="card split">
            <div class="keys"><h2>Keys</h2>
              <p><input id="prefix" type="search" placeholder="key prefix, e.g. boiler." autocomplete="off"></p>
              <p class="muted" id="keys-summary"></p>
              <ul id="keys" class="keys-list"></ul></div>
            <div class="plot"><h2>Plot</h2>
              <p class="controls"><label>Range <select id="range">
                <option value="300">last 5 minutes</option><option value="3600" selected>last hour</option><option value="86400">last day</option>
                <option value="604800">last week</option><option value="all">everything</option><option value="custom">from … to …</option></select></label>
                <span id="custom-range" hidden><input id="from" type="datetime-local" step="1"> to <input id="to" type="datetime-local" step="1"></span>
                <label><input id="follow" type="checkbox" checked> live</label>
                <button id="plot" type="button">Plot</button></p>
              <div id="metrics-chart" class="chart"></div>
              <p class="muted" id="metrics-summary">Pick keys on the left.</p></div>
            </section>
            """, "metrics.js"));
        console.MapGet("/api/metrics/keys", (IServiceProvider services, string? prefix) =>
            Enabled<MetricsOptions>(services) ? Results.Json(services.GetRequiredService<MetricsView>().Keys(prefix ?? ""), ConsoleStream.Json) : Off("Metrics"));
        console.MapGet("/api/metrics/series", (HttpContext context) =>
        {
            if (!Enabled<MetricsOptions>(context.RequestServices))
            {
                return Off("Metrics");
            }

            (List<string> keys, long? from, long? to, long? span) = SeriesQuery(context.Request.Query);
            long end = to ?? DateTimeOffset.UtcNow.ToUnixTimeSeconds();
            long start = span is { } seconds ? end - seconds : from ?? 0;
            return Results.Json(context.RequestServices.GetRequiredService<MetricsView>().Series(keys, start, to ?? (span is null ? long.MaxValue : end), maxPoints), ConsoleStream.Json);
        });
        console.MapGet("/api/metrics/stream", (HttpContext context) =>
        {
            (List<string> keys, long? from, long? to, long? span) = SeriesQuery(context.Request.Query);
            return Stream<MetricsOptions>(context, TimeSpan.FromSeconds(1), "Metrics",
                () => context.RequestServices.GetRequiredService<MetricsView>().Stream(keys, from, to, span, maxPoints));
        });
    }

    private static void MapJobs(RouteGroupBuilder console, TimeSpan interval)
    {
        console.MapGet("/ui/jobs", (HttpContext context) => ConsolePages.PageAsync(context, "Jobs", "/ui/jobs", """
            <h1>Jobs</h1>
            <p class="muted" id="jobs-summary"></p>
            <section class="card"><h2>Running</h2><table id="running"><thead><tr><th>#</th><th>folder</th><th>input</th><th>task</th><th>started</th><th class="num">elapsed</th></tr></thead><tbody></tbody></table></section>
            <section class="card"><h2>Queued</h2><table id="queued"><thead><tr><th>#</th><th>folder</th><th>input</th><th>task</th><th>queued at</th><th class="num">waiting</th></tr></thead><tbody></tbody></table></section>
            <section class="card"><h2>Last results</h2><table id="recent"><thead><tr><th>#</th><th>folder</th><th>input</th><th>task</th><th>finished</th><th class="num">took</th><th>result or error</th></tr></thead><tbody></tbody></table></section>
            """, "jobs.js"));
        console.MapGet("/api/jobs", (IServiceProvider services) =>
            Enabled<JobsOptions>(services)
                ? Results.Json(services.GetRequiredService<JobsView>().Snapshot(services.GetRequiredService<JobBoard>().Snapshot()), ConsoleStream.Json)
                : Off("Jobs"));
        console.MapGet("/api/jobs/stream", (HttpContext context) =>
            Stream<JobsOptions>(context, interval, "Jobs", () => context.RequestServices.GetRequiredService<JobsView>().Stream()));
    }

    private static void MapMessenger(RouteGroupBuilder console, TimeSpan interval)
    {
        console.MapGet("/ui/messenger", (HttpContext context) => ConsolePages.PageAsync(context, "Chat", "/ui/messenger", """
            <h1>Chat</h1>
            <p class="muted" id="chat-summary"></p>
            <section class="card"><ol id="messages" class="messages"></ol><p class="muted" id="no-messages">No messages yet.</p></section>
            """, "messenger.js"));
        console.MapGet("/api/messenger/stream", (HttpContext context) =>
            Stream<MessengerOptions>(context, interval, "Messenger", () => context.RequestServices.GetRequiredService<MessengerView>().Stream()));
    }

    private static bool Enabled<TOptions>(IServiceProvider services)
        where TOptions : Endpoints.EndpointOptions =>
        services.GetRequiredService<IOptions<TOptions>>().Value.Enabled;

    private static IResult Off(string capability) => Results.Json(new { enabled = false, capability }, ConsoleStream.Json);

    /// <summary>A capability's stream, a one-event stream saying it is off, or 404 when the view has nothing by that name.</summary>
    private static Task Stream<TOptions>(HttpContext context, TimeSpan interval, string capability, Func<LiveView?> view)
        where TOptions : Endpoints.EndpointOptions
    {
        if (!Enabled<TOptions>(context.RequestServices))
        {
            bool sent = false;
            return ConsoleStream.ServeAsync(context, interval, new LiveView(() =>
            {
                if (sent)
                {
                    return null;
                }

                sent = true;
                return new { enabled = false, capability };
            }));
        }

        if (view() is not { } live)
        {
            context.Response.StatusCode = StatusCodes.Status404NotFound;
            return Task.CompletedTask;
        }

        return ConsoleStream.ServeAsync(context, interval, live);
    }

    private static double Window(double? seconds) => Math.Clamp(seconds ?? 300, 1, 366 * 86400);

    private static (List<string> Keys, long? From, long? To, long? Span) SeriesQuery(IQueryCollection query)
    {
        static long? Number(StringValues value) => long.TryParse(value.ToString(), out long n) ? n : null;
        return ([.. query["key"].Where(k => !string.IsNullOrEmpty(k)).Select(k => k!).Distinct()], Number(query["from"]), Number(query["to"]), Number(query["span"]));
    }
}
