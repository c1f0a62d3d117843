using System.Globalization;
using System.Text;
using Microsoft.Extensions.Primitives;
using Rto.Protocols.Meters;
using Rto.Server.Endpoints;

namespace Rto.Server.Meters;

/// <summary>
/// The meters' HTTP/1.1 routes under <c>/meters</c>. Every query parameter is checked: an unknown,
/// repeated or invalid one gets 400 with an RFC 9457 problem (<c>application/problem+json</c>)
/// whose <c>detail</c> says what is wrong; an unknown meter gets 404 in the same shape. Charts
/// come from <see cref="MeterCharts"/> with an ETag and Last-Modified, so a client revalidating
/// one that has not changed gets 304.
/// </summary>
internal static class MetersHttpApi
{
    /// <summary>The largest <c>limit</c> of a readings query (and the most readings a meter's chart draws).</summary>
    public const int MaxLimit = 100_000;

    private static readonly string[] s_noParameters = [];
    private static readonly string[] s_range = ["from", "to"];
    private static readonly string[] s_rangeAndLimit = ["from", "to", "limit"];

    public static void Map(WebApplication app, MetersOptions options)
    {
        ServerEndpoints endpoints = app.Services.GetRequiredService<ServerEndpoints>();
        RouteGroupBuilder group = app.MapGroup("/meters");

        // The routes answer only on the meters HTTP endpoint (its port may be chosen at bind time).
        group.AddEndpointFilter(async (context, next) =>
            endpoints.Serves(EndpointNames.MetersHttp, context.HttpContext.Connection.LocalPort) ? await next(context) : Results.NotFound());

        group.MapGet("/counters", (HttpRequest request, MeterCounters counters) =>
            TryReadQuery(request, s_noParameters, out _, out IResult? problem) ? Results.Ok(ToJson(counters)) : problem);
        group.MapGet("/", (HttpRequest request, MeterRegistry registry, MeterCounters counters) =>
            TryReadQuery(request, s_noParameters, out _, out IResult? problem)
                ? Results.Ok(new
                {
                    meters = OrderForDisplay(registry.Meters.Values).Select(m => new
                    {
                        ip = m.Meter,
                        rangeStart = m.RangeStart,
                        rangeStop = m.RangeStop,
                        unit = m.Unit == MeterUnit.Volt ? "V" : "A",
                    }),
                    counters = ToJson(counters),
                })
                : problem);
        group.MapGet("/{meter}/readings", (HttpRequest request, string meter, MeterStore store, MeterRegistry registry) =>
        {
            if (!TryReadQuery(request, s_rangeAndLimit, out Query query, out IResult? problem) || !TryFindMeter(meter, store, registry, out problem))
            {
                return problem;
            }

            return Results.Ok(store.Query(meter, query.From, query.To, query.Limit).Select(ToJson));
        });
        group.MapGet("/{meter}/readings.png", (HttpRequest request, string meter, MeterStore store, MeterRegistry registry, MeterCharts charts) =>
            TryReadQuery(request, s_range, out Query query, out IResult? problem) && TryFindMeter(meter, store, registry, out problem)
                ? File(charts.Readings(store, registry, meter, query.From, query.To))
                : problem);
        group.MapGet("/power", (HttpRequest request, PowerCalculator power) =>
            TryReadQuery(request, s_range, out Query query, out IResult? problem) ? Results.Ok(power.Query(query.From, query.To).Select(ToJson)) : problem);
        group.MapGet("/power.png", (HttpRequest request, PowerCalculator power, MeterCharts charts) =>
            TryReadQuery(request, s_range, out Query query, out IResult? problem) ? File(charts.Power(power, query.From, query.To)) : problem);
        group.MapGet("/dashboard", (HttpRequest request, MeterCounters counters, PowerCalculator power) =>
            TryReadQuery(request, s_noParameters, out _, out IResult? problem) ? Results.Content(Dashboard(counters, power), "text/html; charset=utf-8") : problem);
    }

    /// <summary>IPv4 names in address order (<c>10.0.0.9</c> before <c>10.0.0.10</c>), then the others by text.</summary>
    public static IEnumerable<MeterDefinition> OrderForDisplay(IEnumerable<MeterDefinition> meters) =>
        meters.OrderBy(m => MeterLineParser.TryParseIPv4(Encoding.UTF8.GetBytes(m.Meter), out uint ip) ? ip : uint.MaxValue)
            .ThenBy(m => m.Meter, StringComparer.Ordinal);

    private static IResult File(MeterChart chart) =>
        Results.File(chart.Png, "image/png", lastModified: chart.LastModified, entityTag: chart.ETag);

    private static bool TryFindMeter(string meter, MeterStore store, MeterRegistry registry, out IResult problem)
    {
        problem = Results.Empty;
        if (registry.TryGet(meter, out _) || store.TryGetWindow(meter, out _))
        {
            return true;
        }

        problem = Problem(StatusCodes.Status404NotFound, "Unknown meter", $"No meter '{meter}' is in the registry or has readings. Meters are matched by their name as text: '010.0.0.1' is not '10.0.0.1'.");
        return false;
    }

    /// <summary>Checks every query parameter of <paramref name="request"/> against the route's and reads them.</summary>
    private static bool TryReadQuery(HttpRequest request, string[] allowed, out Query query, out IResult problem)
    {
        query = new Query(long.MinValue, long.MaxValue, 10_000);
        problem = Results.Empty;
        foreach ((string name, StringValues values) in request.Query)
        {
            if (!allowed.Contains(name, StringComparer.Ordinal))
            {
                string expected = allowed.Length == 0 ? "this route takes no query parameters" : $"this route takes {string.Join(", ", allowed)}";
                problem = BadQuery($"Unknown query parameter '{name}': {expected}.");
                return false;
            }

            if (values.Count > 1)
            {
                problem = BadQuery($"The query parameter '{name}' is given {values.Count} times; give it once.");
                return false;
            }
        }

        if (!TryTime(request.Query, "from", long.MinValue, out long from, ref problem) || !TryTime(request.Query, "to", long.MaxValue, out long to, ref problem))
        {
            return false;
        }

        if (from > to)
        {
            problem = BadQuery($"from ({request.Query["from"]}) is later than to ({request.Query["to"]}).");
            return false;
        }

        int limit = 10_000;
        string? limitText = request.Query["limit"];
        if (request.Query.ContainsKey("limit")
            && (!int.TryParse(limitText, NumberStyles.None, CultureInfo.InvariantCulture, out limit) || limit is < 1 or > MaxLimit))
        {
            problem = BadQuery($"limit must be a whole number from 1 to {MaxLimit.ToString("N0", CultureInfo.InvariantCulture)} (the latest readings returned), not '{limitText}'.");
            return false;
        }

        query = new Query(from, to, limit);
        return true;
    }

    private static bool TryTime(IQueryCollection query, string name, long missing, out long timestamp, ref IResult problem)
    {
        string text = query[name].ToString();
        timestamp = missing;
        if (!query.ContainsKey(name)
            || MeterTimestamp.TryParse(Encoding.UTF8.GetBytes(text), out timestamp)
            || TryIsoTime(text, out timestamp))
        {
            return true;
        }

        problem = BadQuery($"{name} must be a local time 'yyyy.MM.dd HH:mm:ss.ffffff' (as the meters send it) or ISO 8601 ('2024-04-27T14:00:00'), not '{text}'.");
        return false;
    }

    private static bool TryIsoTime(string text, out long timestamp)
    {
        bool parsed = DateTime.TryParse(text, CultureInfo.InvariantCulture, DateTimeStyles.AssumeLocal, out DateTime time);
        timestamp = parsed ? MeterTimestamp.FromDateTime(time) : 0;
        return parsed;
    }

    private static IResult BadQuery(string detail) => Problem(StatusCodes.Status400BadRequest, "Invalid query", detail);

    private static IResult Problem(int status, string title, string detail) => Results.Problem(detail: detail, statusCode: status, title: title);

    private static string Dashboard(MeterCounters counters, PowerCalculator power)
    {
        List<TimedValue> points = power.Query(long.MinValue, long.MaxValue);
        string latest = points.Count == 0 ? "none yet" : $"{points[^1].Value.ToString("0.###", CultureInfo.InvariantCulture)} W at {MeterTimestamp.ToString(points[^1].Timestamp)}";
        return "<!doctype html><html><head><meta charset=\"utf-8\"><meta http-equiv=\"refresh\" content=\"5\"><title>Rto meters</title></head>"
            + "<body style=\"font-family:sans-serif\"><h1>Power</h1><p>Latest: " + latest + "</p><img src=\"power.png\" alt=\"power chart\">"
            + "<h2>Readings</h2><table border=\"1\" cellpadding=\"4\"><tr><th>accepted</th><th>malformed</th><th>unknown meter</th><th>out of range</th><th>not finite</th></tr>"
            + string.Create(CultureInfo.InvariantCulture, $"<tr><td>{counters.Accepted}</td><td>{counters.Malformed}</td><td>{counters.UnknownMeter}</td><td>{counters.OutOfRange}</td><td>{counters.NotFinite}</td></tr></table></body></html>");
    }

    private static object ToJson(MeterCounters counters) =>
        new { accepted = counters.Accepted, malformed = counters.Malformed, unknownMeter = counters.UnknownMeter, outOfRange = counters.OutOfRange, notFinite = counters.NotFinite };

    private static object ToJson(TimedValue point) => new { timestamp = MeterTimestamp.ToString(point.Timestamp), value = point.Value };

    private readonly record struct Query(long From, long To, int Limit);
}
