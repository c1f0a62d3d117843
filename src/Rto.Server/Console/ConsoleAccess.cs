using System.Net;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using Rto.Server.Endpoints;
using Rto.Server.Optimization;

namespace Rto.Server.Console;

/// <summary>
/// Who may use the console. With no token configured everyone on the console's address may; otherwise
/// a request needs <c>Authorization: Bearer &lt;token&gt;</c> or the cookie the login form sets. The cookie
/// holds an HMAC of the token under a key made at start-up, never the token itself, so it is worthless
/// after a restart or once the token is removed from the settings.
/// </summary>
internal sealed class ConsoleAccess
{
    public const string CookieName = "rto_console";
    public const string LoginPath = "/login";
    public const string LogoutPath = "/logout";

    private readonly byte[][] _tokens;
    private readonly byte[][] _cookies;
    private readonly byte[] _key = RandomNumberGenerator.GetBytes(32);
    private readonly ServerInstruments.EndpointInstruments _instruments;

    public ConsoleAccess(IOptions<ConsoleOptions> console, IOptions<OptimizationOptions> optimization, ServerInstruments instruments)
    {
        _instruments = instruments.For(EndpointNames.Console);
        List<string> tokens = console.Value.AccessTokens.Count > 0 ? console.Value.AccessTokens : optimization.Value.AccessTokens;
        _tokens = [.. tokens.Where(t => t.Length > 0).Select(Encoding.UTF8.GetBytes)];
        _cookies = [.. _tokens.Select(t => HMACSHA256.HashData(_key, t))];
    }

    /// <summary>Whether a token is needed at all.</summary>
    public bool IsRequired => _tokens.Length > 0;

    /// <summary>Whether the request carries an accepted bearer token or login cookie (always true when none is required).</summary>
    public bool IsAllowed(HttpRequest request)
    {
        if (!IsRequired)
        {
            return true;
        }

        string authorization = request.Headers.Authorization.ToString();
        if (authorization.StartsWith("Bearer ", StringComparison.OrdinalIgnoreCase))
        {
            return Matches(_tokens, Encoding.UTF8.GetBytes(authorization[7..].Trim()));
        }

        return request.Cookies.TryGetValue(CookieName, out string? cookie) && TryFromHex(cookie, out byte[] mac) && Matches(_cookies, mac);
    }

    /// <summary>Checks a token typed into the login form; when accepted, the cookie value that stands for it.</summary>
    public bool TryLogin(string? token, out string cookie)
    {
        cookie = "";
        byte[] candidate = Encoding.UTF8.GetBytes(token ?? "");
        if (!Matches(_tokens, candidate))
        {
            return false;
        }

        cookie = Convert.ToHexString(HMACSHA256.HashData(_key, candidate));
        return true;
    }

    /// <summary>
    /// The gate in front of every console request: the login and logout pages, and for everything else
    /// but the static assets (the login page needs its stylesheet) a refusal without a token —
    /// a redirect to the login form for a page, 401 for the API, the streams and <c>/metrics</c>.
    /// </summary>
    public async Task GateAsync(HttpContext context, RequestDelegate next)
    {
        // Every console request counts, and every refusal by reason, as on the other endpoints.
        _instruments.Requests(1);
        PathString path = context.Request.Path;
        if (path.Equals(LoginPath, StringComparison.OrdinalIgnoreCase))
        {
            await LoginAsync(context);
            return;
        }

        if (path.Equals(LogoutPath, StringComparison.OrdinalIgnoreCase))
        {
            context.Response.Cookies.Delete(CookieName);
            context.Response.Redirect(LoginPath);
            return;
        }

        if (IsAllowed(context.Request) || path.StartsWithSegments(ConsolePages.AssetsPath))
        {
            await next(context);
            return;
        }

        _instruments.Errors("unauthorized");
        if (HttpMethods.IsGet(context.Request.Method) && (path.StartsWithSegments(ConsolePages.PagesPath) || path == "/"))
        {
            context.Response.Redirect($"{LoginPath}?returnUrl={Uri.EscapeDataString(context.Request.Path + context.Request.QueryString)}");
            return;
        }

        context.Response.StatusCode = StatusCodes.Status401Unauthorized;
        context.Response.Headers.WWWAuthenticate = "Bearer realm=\"rto console\"";
        await context.Response.WriteAsync("a console access token is required: Authorization: Bearer <token>, or log in at /login\n");
    }

    private async Task LoginAsync(HttpContext context)
    {
        string returnUrl = context.Request.Query["returnUrl"].ToString();

        // Only a path of this console: a login link must not send the user elsewhere.
        if (!returnUrl.StartsWith('/') || returnUrl.StartsWith("//", StringComparison.Ordinal) || returnUrl.StartsWith("/\\", StringComparison.Ordinal))
        {
            returnUrl = ConsolePages.OverviewPath;
        }

        string? error = null;
        if (HttpMethods.IsPost(context.Request.Method) && context.Request.HasFormContentType)
        {
            IFormCollection form = await context.Request.ReadFormAsync(context.RequestAborted);
            if (TryLogin(form["token"].ToString(), out string cookie))
            {
                context.Response.Cookies.Append(CookieName, cookie, new CookieOptions { HttpOnly = true, SameSite = SameSiteMode.Strict, Path = "/", IsEssential = true });
                context.Response.Redirect(returnUrl);
                return;
            }

            // The form again with the reason, as a page (a 401 would be logged as an error by the browser).
            error = "That token is not accepted.";
            _instruments.Errors("login_refused");
        }

        string body = $"""
            <form class="login" method="post" action="{LoginPath}?returnUrl={WebUtility.HtmlEncode(Uri.EscapeDataString(returnUrl))}">
              <h1>Rto console</h1>
              <p>This server asks for an access token (<code>Console:AccessTokens</code>, or <code>Optimization:AccessTokens</code>).</p>
              <label>Access token <input id="token" name="token" type="password" autocomplete="current-password" autofocus required></label>
              <button id="login" type="submit">Log in</button>
              {(error is null ? "" : $"<p id=\"login-error\" class=\"error\">{error}</p>")}
            </form>
            """;
        await ConsolePages.WriteAsync(context, "Log in", null, body, script: null);
    }

    private static bool Matches(byte[][] accepted, byte[] candidate)
    {
        // Every accepted value is compared, in constant time, so the time taken says nothing about which one is near.
        bool found = false;
        foreach (byte[] expected in accepted)
        {
            found |= CryptographicOperations.FixedTimeEquals(candidate, expected);
        }

        return found && candidate.Length != 0;
    }

    private static bool TryFromHex(string text, out byte[] bytes)
    {
        bytes = [];
        if (text.Length != 64)
        {
            return false;
        }

        try
        {
            bytes = Convert.FromHexString(text);
            return true;
        }
        catch (FormatException)
        {
            return false;
        }
    }
}
