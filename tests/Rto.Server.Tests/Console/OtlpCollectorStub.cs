using System.Collections.Concurrent;
using System.Net;
using Google.Protobuf;
using Microsoft.AspNetCore.Builder;
using Microsoft.AspNetCore.Hosting;
using Microsoft.AspNetCore.Http;
using Microsoft.Extensions.Logging;

namespace Rto.Server.Tests.Console;

/// <summary>
/// A tiny OTLP/HTTP collector on a loopback port: accepts <c>POST /v1/metrics</c> and <c>/v1/traces</c>
/// (protobuf) and decodes just enough of the OTLP messages to tell which metrics and spans arrived.
/// Field numbers are those of opentelemetry-proto (collector/metrics/v1, metrics/v1, trace/v1, common/v1).
/// </summary>
internal sealed class OtlpCollectorStub : IAsyncDisposable
{
    private readonly WebApplication _app;
    private readonly ConcurrentQueue<ExportedMetric> _metrics = new();
    private readonly ConcurrentQueue<ExportedSpan> _spans = new();

    private OtlpCollectorStub(WebApplication app) => _app = app;

    /// <summary>One data point of a metric: its scope, name, attributes and integer or double value.</summary>
    public sealed record ExportedMetric(string Scope, string Name, Dictionary<string, string> Attributes, double Value);

    /// <summary>One span: its scope, name and string attributes.</summary>
    public sealed record ExportedSpan(string Scope, string Name, Dictionary<string, string> Attributes);

    public Uri Address => new($"http://127.0.0.1:{new Uri(_app.Urls.Single()).Port}");

    public IReadOnlyCollection<ExportedMetric> Metrics => _metrics;

    public IReadOnlyCollection<ExportedSpan> Spans => _spans;

    public static async Task<OtlpCollectorStub> StartAsync()
    {
        WebApplicationBuilder builder = WebApplication.CreateSlimBuilder();
        builder.WebHost.UseUrls("http://127.0.0.1:0");
        builder.Logging.SetMinimumLevel(LogLevel.Warning);
        WebApplication app = builder.Build();
        var stub = new OtlpCollectorStub(app);
        app.MapPost("/v1/metrics", async (HttpContext context) => stub.AcceptMetrics(await ReadAsync(context)));
        app.MapPost("/v1/traces", async (HttpContext context) => stub.AcceptTraces(await ReadAsync(context)));
        await app.StartAsync();
        return stub;
    }

    public async ValueTask DisposeAsync()
    {
        await _app.StopAsync();
        await _app.DisposeAsync();
    }

    private static async Task<byte[]> ReadAsync(HttpContext context)
    {
        Assert.AreEqual("application/x-protobuf", context.Request.ContentType);
        using var body = new MemoryStream();
        await context.Request.Body.CopyToAsync(body);
        return body.ToArray();
    }

    /// <summary>ExportMetricsServiceRequest → ResourceMetrics(1) → ScopeMetrics(2) → Metric(2) → Sum(7)/Gauge(5) → NumberDataPoint(1).</summary>
    private IResult AcceptMetrics(byte[] request)
    {
        foreach (byte[] resource in Fields(request, 1))
        {
            foreach (byte[] scopeMetrics in Fields(resource, 2))
            {
                string scope = Fields(scopeMetrics, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? "";
                foreach (byte[] metric in Fields(scopeMetrics, 2))
                {
                    string name = Text(metric, 1);
                    foreach (byte[] data in Fields(metric, 7).Concat(Fields(metric, 5)))
                    {
                        foreach (byte[] point in Fields(data, 1))
                        {
                            _metrics.Enqueue(new ExportedMetric(scope, name, Attributes(point, 7), NumberOf(point)));
                        }
                    }

                    if (!Fields(metric, 7).Any() && !Fields(metric, 5).Any())
                    {
                        _metrics.Enqueue(new ExportedMetric(scope, name, [], double.NaN));
                    }
                }
            }
        }

        return Results.Ok();
    }

    /// <summary>ExportTraceServiceRequest → ResourceSpans(1) → ScopeSpans(2) → Span(2): name(5), attributes(9).</summary>
    private IResult AcceptTraces(byte[] request)
    {
        foreach (byte[] resource in Fields(request, 1))
        {
            foreach (byte[] scopeSpans in Fields(resource, 2))
            {
                string scope = Fields(scopeSpans, 1).Select(s => Text(s, 1)).FirstOrDefault() ?? "";
                foreach (byte[] span in Fields(scopeSpans, 2))
                {
                    _spans.Enqueue(new ExportedSpan(scope, Text(span, 5), Attributes(span, 9)));
                }
            }
        }

        return Results.Ok();
    }

    /// <summary>KeyValue: key(1), value(2) = AnyValue with string_value(1) or int_value(3).</summary>
    private static Dictionary<string, string> Attributes(byte[] message, int field)
    {
        var attributes = new Dictionary<string, string>();
        foreach (byte[] pair in Fields(message, field))
        {
            byte[]? value = Fields(pair, 2).FirstOrDefault();
            attributes[Text(pair, 1)] = value is null ? "" : Fields(value, 1).Any() ? Text(value, 1) : Varint(value, 3)?.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "";
        }

        return attributes;
    }

    /// <summary>NumberDataPoint: as_double(4, fixed64) or as_int(6, sfixed64).</summary>
    private static double NumberOf(byte[] point)
    {
        var input = new CodedInputStream(point);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            switch (WireFormat.GetTagFieldNumber(tag))
            {
                case 4 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Fixed64:
                    return input.ReadDouble();
                case 6 when WireFormat.GetTagWireType(tag) == WireFormat.WireType.Fixed64:
                    return input.ReadSFixed64();
                default:
                    input.SkipLastField();
                    break;
            }
        }

        return double.NaN;
    }

    private static long? Varint(byte[] message, int field)
    {
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.Varint)
            {
                return input.ReadInt64();
            }

            input.SkipLastField();
        }

        return null;
    }

    private static string Text(byte[] message, int field) =>
        Fields(message, field).Select(b => System.Text.Encoding.UTF8.GetString(b)).FirstOrDefault() ?? "";

    /// <summary>The length-delimited fields numbered <paramref name="field"/> of a message, in order.</summary>
    private static List<byte[]> Fields(byte[] message, int field)
    {
        var found = new List<byte[]>();
        var input = new CodedInputStream(message);
        uint tag;
        while ((tag = input.ReadTag()) != 0)
        {
            if (WireFormat.GetTagFieldNumber(tag) == field && WireFormat.GetTagWireType(tag) == WireFormat.WireType.LengthDelimited)
            {
                found.Add(input.ReadBytes().ToByteArray());
            }
            else
            {
                input.SkipLastField();
            }
        }

        return found;
    }
}
