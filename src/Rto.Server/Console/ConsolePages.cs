using System.Net;
using System.Reflection;
using System.Security.Cryptography;

namespace Rto.Server.Console;

/// <summary>
/// The console's HTML pages and static assets. A page is a small shell (header, navigation, empty
/// tables and chart boxes); its script fills it from the page's server-sent event stream. Scripts,
/// styles and the charting library (uPlot, MIT) are embedded in the server, so the console works
/// on a network without internet access.
/// </summary>
internal static class ConsolePages
{
    public const string PagesPath = "/ui";
    public const string AssetsPath = "/assets";
    public const string OverviewPath = "/ui/overview";

    /// <summary>Only the console's own scripts run; styles may be set inline (the charts position their parts that way).</summary>
    private const string ContentSecurityPolicy = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'none'";

    private static readonly (string Path, string Label)[] Navigation =
    [
        (OverviewPath, "Overview"), ("/ui/optimization", "Optimization"), ("/ui/meters", "Meters"), ("/ui/metrics", "Metrics"), ("/ui/jobs", "Jobs"), ("/ui/messenger", "Chat"),
    ];

    private static readonly Dictionary<string, EmbeddedAsset> Assets = LoadAssets();

    /// <summary>Writes a page: <paramref name="body"/> inside the common frame, then <paramref name="script"/> (an asset name) if any.</summary>
    public static Task WriteAsync(HttpContext context, string title, string? active, string body, string? script, string? data = null)
    {
        bool loginRequired = context.RequestServices.GetRequiredService<ConsoleAccess>().IsRequired;
        string nav = active is null ? "" : string.Concat(Navigation.Select(n =>
            $"<a href=\"{n.Path}\"{(n.Path == active ? " class=\"active\" aria-current=\"page\"" : "")}>{n.Label}</a>"));
        string html = $"""
            <!doctype html>
            <html lang="en">
            <head>
            <meta charset="utf-8">
            <meta name="viewport" content="width=device-width, initial-scale=1">
            <title>{WebUtility.HtmlEncode(title)} · Rto console</title>
            <link rel="icon" href="data:,">
            <link rel="stylesheet" href="{AssetsPath}/uPlot.min.css">
            <link rel="stylesheet" href="{AssetsPath}/console.css">
            </head>
            <body{data}>
            <header>
              <a class="brand" href="{OverviewPath}">Rto <span>console</span></a>
              <nav>{nav}</nav>
              <span id="live" class="live" title="live updates">{(active is null ? "" : "connecting…")}</span>
              {(loginRequired && active is not null ? $"<a class=\"logout\" href=\"{ConsoleAccess.LogoutPath}\">Log out</a>" : "")}
            </header>
            <main>
            {body}
            </main>
            {(script is null ? "" : $"<script src=\"{AssetsPath}/uPlot.iife.min.js\"></script><script src=\"{AssetsPath}/console.js\"></script><script src=\"{AssetsPath}/{script}\"></script>")}
            </body>
            </html>
            """;
        context.Response.ContentType = "text/html; charset=utf-8";
        context.Response.Headers.ContentSecurityPolicy = ContentSecurityPolicy;
        context.Response.Headers.XContentTypeOptions = "nosniff";
        context.Response.Headers.CacheControl = "no-store";
        return context.Response.WriteAsync(html);
    }

    /// <summary>A page whose script reads <paramref name="data"/> attributes of the body (e.g. the session id).</summary>
    public static Task PageAsync(HttpContext context, string title, string active, string body, string script, IReadOnlyDictionary<string, string>? data = null) =>
        WriteAsync(context, title, active, body, script,
            data is null ? null : string.Concat(data.Select(d => $" data-{d.Key}=\"{WebUtility.HtmlEncode(d.Value)}\"")));

    /// <summary>Serves an embedded asset, revalidated by its content hash.</summary>
    public static IResult Asset(HttpContext context, string name)
    {
        if (!Assets.TryGetValue(name, out EmbeddedAsset? asset))
        {
            return Results.NotFound();
        }

        context.Response.Headers.CacheControl = "no-cache";
        context.Response.Headers.XContentTypeOptions = "nosniff";
        if (context.Request.Headers.IfNoneMatch == asset.ETag)
        {
            return Results.StatusCode(StatusCodes.Status304NotModified);
        }

        context.Response.Headers.ETag = asset.ETag;
        return Results.Bytes(asset.Content, asset.ContentType);
    }

    private static Dictionary<string, EmbeddedAsset> LoadAssets()
    {
        const string prefix = "Rto.Server.Console.Assets.";
        Assembly assembly = typeof(ConsolePages).Assembly;
        var assets = new Dictionary<string, EmbeddedAsset>(StringComparer.Ordinal);
        foreach (string resource in assembly.GetManifestResourceNames().Where(r => r.StartsWith(prefix, StringComparison.Ordinal)))
        {
            using Stream stream = assembly.GetManifestResourceStream(resource)!;
            using var copy = new MemoryStream();
            stream.CopyTo(copy);
            byte[] content = copy.ToArray();
            string name = resource[prefix.Length..];
            string type = Path.GetExtension(name) switch
            {
                ".js" => "text/javascript; charset=utf-8",
                ".css" => "text/css; charset=utf-8",
                _ => "text/plain; charset=utf-8",
            };
            assets[name] = new EmbeddedAsset(content, type, $"\"{Convert.ToHexString(SHA256.HashData(content))[..16]}\"");
        }

        return assets;
    }

    private sealed record EmbeddedAsset(byte[] Content, string ContentType, string ETag);
}
