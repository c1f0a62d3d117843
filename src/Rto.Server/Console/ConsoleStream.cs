using System.Text.Json;
using System.Text.Json.Serialization;

namespace Rto.Server.Console;

/// <summary>
/// What a live page is sent: <paramref name="Next"/> returns the next update, or null when nothing
/// changed since the last call (its first call returns the whole state); <paramref name="Closed"/>
/// runs once the page went away.
/// </summary>
internal sealed record LiveView(Func<object?> Next, Action? Closed = null);

/// <summary>
/// One live page's server-sent event stream. Every interval (<c>1 / Console:MaxUpdatesPerSecond</c>)
/// the page's view is asked for what changed; when something did, it goes out as one event. However
/// fast the stores change, a page gets a bounded number of updates per second, each carrying
/// everything since the last one, so it stays responsive at full ingest load.
/// </summary>
internal static class ConsoleStream
{
    /// <summary>Web names (camelCase); non-finite numbers as the strings <c>NaN</c>, <c>Infinity</c> (pages treat them as gaps).</summary>
    public static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web)
    {
        NumberHandling = JsonNumberHandling.AllowNamedFloatingPointLiterals,
        DefaultIgnoreCondition = JsonIgnoreCondition.Never,
    };

    /// <summary>A comment line now and then keeps proxies and idle timeouts from closing a quiet stream.</summary>
    private static readonly TimeSpan KeepAlive = TimeSpan.FromSeconds(15);

    /// <summary>Serves the stream of <paramref name="view"/> until the page goes away or the server stops.</summary>
    public static async Task ServeAsync(HttpContext context, TimeSpan interval, LiveView view)
    {
        IHostApplicationLifetime lifetime = context.RequestServices.GetRequiredService<IHostApplicationLifetime>();
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(context.RequestAborted, lifetime.ApplicationStopping);
        CancellationToken cancel = stop.Token;

        HttpResponse response = context.Response;
        response.ContentType = "text/event-stream";
        response.Headers.CacheControl = "no-cache";
        response.Headers["X-Accel-Buffering"] = "no";
        using var timer = new PeriodicTimer(interval);
        try
        {
            // Tells the page to retry after a second if the connection drops.
            await response.WriteAsync("retry: 1000\n\n", cancel);
            await response.Body.FlushAsync(cancel);
            long quietSince = Environment.TickCount64;
            do
            {
                object? update = view.Next();
                if (update is not null)
                {
                    await response.WriteAsync("data: ", cancel);
                    await JsonSerializer.SerializeAsync(response.Body, update, update.GetType(), Json, cancel);
                    await response.WriteAsync("\n\n", cancel);
                    await response.Body.FlushAsync(cancel);
                    quietSince = Environment.TickCount64;
                }
                else if (Environment.TickCount64 - quietSince > KeepAlive.TotalMilliseconds)
                {
                    await response.WriteAsync(": keep-alive\n\n", cancel);
                    await response.Body.FlushAsync(cancel);
                    quietSince = Environment.TickCount64;
                }
            }
            while (await timer.WaitForNextTickAsync(cancel));
        }
        catch (OperationCanceledException) when (cancel.IsCancellationRequested)
        {
            // The page closed or the server is stopping.
        }
        catch (IOException)
        {
            // The connection broke while writing.
        }
        finally
        {
            view.Closed?.Invoke();
        }
    }

    /// <summary>The interval between two updates of one page.</summary>
    public static TimeSpan IntervalOf(ConsoleOptions options) => TimeSpan.FromSeconds(1.0 / options.MaxUpdatesPerSecond);
}
