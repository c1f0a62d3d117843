using System.Net;
using System.Net.Http.Headers;

namespace Rto.Server.Tests.Console;

/// <summary>With access tokens configured the console, its API, its streams and <c>/metrics</c> need one; without, they are open.</summary>
[TestClass]
public sealed class ConsoleAccessTests
{
    private static HttpClient Client(TestServer server, CookieContainer? cookies = null) =>
        new(new HttpClientHandler { AllowAutoRedirect = false, CookieContainer = cookies ?? new CookieContainer(), UseCookies = true }) { BaseAddress = server.ConsoleAddress, Timeout = TimeSpan.FromSeconds(30) };

    [TestMethod]
    public async Task Without_a_token_pages_redirect_to_the_login_form_and_the_api_and_scrape_answer_401()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Console:AccessTokens:0=s3cret");
        using HttpClient http = Client(server);

        using HttpResponseMessage page = await http.GetAsync("/ui/meters?window=60");
        Assert.AreEqual(HttpStatusCode.Redirect, page.StatusCode);
        Assert.AreEqual("/login?returnUrl=%2Fui%2Fmeters%3Fwindow%3D60", page.Headers.Location!.OriginalString);

        foreach (string path in (string[])["/api/overview", "/api/overview/stream", "/api/metrics/keys", "/metrics"])
        {
            using HttpResponseMessage refused = await http.GetAsync(path);
            Assert.AreEqual(HttpStatusCode.Unauthorized, refused.StatusCode, path);
            Assert.AreEqual("Bearer", refused.Headers.WwwAuthenticate.Single().Scheme, path);
        }

        using var wrong = new HttpRequestMessage(HttpMethod.Get, "/api/overview") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "s3cre") } };
        Assert.AreEqual(HttpStatusCode.Unauthorized, (await http.SendAsync(wrong)).StatusCode);

        // The login page and its stylesheet are the only things served to a stranger.
        Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/login")).StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/assets/console.css")).StatusCode);
    }

    [TestMethod]
    public async Task A_bearer_token_or_the_login_cookie_opens_everything()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Console:AccessTokens:0=first", "--Console:AccessTokens:1=s3cret");
        var cookies = new CookieContainer();
        using HttpClient http = Client(server, cookies);

        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/metrics") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "s3cret") } };
        using HttpResponseMessage scrape = await http.SendAsync(bearer);
        Assert.AreEqual(HttpStatusCode.OK, scrape.StatusCode);
        StringAssert.Contains(await scrape.Content.ReadAsStringAsync(), "# TYPE ");

        using HttpResponseMessage rejected = await http.PostAsync("/login?returnUrl=%2Fui%2Fjobs", new FormUrlEncodedContent([new("token", "nope")]));
        Assert.AreEqual(HttpStatusCode.OK, rejected.StatusCode, "the form again, with the reason");
        StringAssert.Contains(await rejected.Content.ReadAsStringAsync(), "not accepted");
        Assert.IsEmpty(cookies.GetCookies(server.ConsoleAddress));

        using HttpResponseMessage accepted = await http.PostAsync("/login?returnUrl=%2Fui%2Fjobs", new FormUrlEncodedContent([new("token", "s3cret")]));
        Assert.AreEqual(HttpStatusCode.Redirect, accepted.StatusCode);
        Assert.AreEqual("/ui/jobs", accepted.Headers.Location!.OriginalString);
        Cookie cookie = cookies.GetCookies(server.ConsoleAddress).Single();
        Assert.IsTrue(cookie.HttpOnly);
        Assert.DoesNotContain("s3cret", cookie.Value, "the cookie holds a MAC of the token, not the token");

        Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/ui/jobs")).StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/api/jobs")).StatusCode);

        // A forged cookie is refused; logging out forgets the real one.
        using HttpClient forger = Client(server);
        using var forged = new HttpRequestMessage(HttpMethod.Get, "/api/jobs") { Headers = { { "Cookie", $"rto_console={new string('0', 64)}" } } };
        Assert.AreEqual(HttpStatusCode.Unauthorized, (await forger.SendAsync(forged)).StatusCode);
        Assert.AreEqual(HttpStatusCode.Redirect, (await http.GetAsync("/logout")).StatusCode);
        Assert.AreEqual(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/jobs")).StatusCode);

        // Refusals are counted like any endpoint's errors, by reason.
        using var overview = new HttpRequestMessage(HttpMethod.Get, "/api/overview") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "first") } };
        using HttpResponseMessage answer = await http.SendAsync(overview);
        using System.Text.Json.JsonDocument json = System.Text.Json.JsonDocument.Parse(await answer.Content.ReadAsStringAsync());
        System.Text.Json.JsonElement console = json.RootElement.GetProperty("endpoints").EnumerateArray().Single(e => e.GetProperty("name").GetString() == "console");
        Assert.AreEqual(2, console.GetProperty("errorsByReason").GetProperty("unauthorized").GetInt64(), "the forged cookie and the request after logging out");
        Assert.AreEqual(1, console.GetProperty("errorsByReason").GetProperty("login_refused").GetInt64());
        Assert.IsGreaterThanOrEqualTo(9L, console.GetProperty("requests").GetInt64());
    }

    [TestMethod]
    public async Task The_login_form_only_returns_to_pages_of_the_console()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Console:AccessTokens:0=s3cret");
        using HttpClient http = Client(server);
        using HttpResponseMessage accepted = await http.PostAsync("/login?returnUrl=%2F%2Fevil.example%2F", new FormUrlEncodedContent([new("token", "s3cret")]));
        Assert.AreEqual("/ui/overview", accepted.Headers.Location!.OriginalString);
    }

    [TestMethod]
    public async Task The_optimization_tokens_close_the_console_when_it_has_none_of_its_own()
    {
        await using TestServer server = await TestServer.StartAsync(null, "--Optimization:AccessTokens:0=plant");
        using HttpClient http = Client(server);
        Assert.AreEqual(HttpStatusCode.Unauthorized, (await http.GetAsync("/api/overview")).StatusCode);
        using var bearer = new HttpRequestMessage(HttpMethod.Get, "/api/overview") { Headers = { Authorization = new AuthenticationHeaderValue("Bearer", "plant") } };
        Assert.AreEqual(HttpStatusCode.OK, (await http.SendAsync(bearer)).StatusCode);
    }

    [TestMethod]
    public async Task Without_tokens_the_console_is_open_and_answers_on_its_own_port_only()
    {
        await using TestServer server = await TestServer.StartAsync();
        using HttpClient http = Client(server);
        using HttpResponseMessage root = await http.GetAsync("/");
        Assert.AreEqual(HttpStatusCode.Redirect, root.StatusCode);
        Assert.AreEqual("/ui/overview", root.Headers.Location!.OriginalString);
        using HttpResponseMessage page = await http.GetAsync("/ui/overview");
        Assert.AreEqual(HttpStatusCode.OK, page.StatusCode);
        StringAssert.Contains(page.Content.Headers.ContentType!.ToString(), "text/html");
        Assert.IsTrue(page.Headers.TryGetValues("Content-Security-Policy", out IEnumerable<string>? policy));
        StringAssert.Contains(policy.Single(), "script-src 'self'");
        Assert.AreEqual(HttpStatusCode.OK, (await http.GetAsync("/metrics")).StatusCode);

        // The same routes on the health and meters HTTP ports are not the console.
        using var health = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.HealthEndPoint.Port}") };
        Assert.AreEqual(HttpStatusCode.NotFound, (await health.GetAsync("/ui/overview")).StatusCode);
        Assert.AreEqual(HttpStatusCode.NotFound, (await health.GetAsync("/metrics")).StatusCode);
        using var meters = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{server.MetersHttpEndPoint.Port}") };
        Assert.AreEqual(HttpStatusCode.NotFound, (await meters.GetAsync("/api/overview")).StatusCode);
        Assert.AreEqual(HttpStatusCode.OK, (await meters.GetAsync("/meters/counters")).StatusCode);
    }

    [TestMethod]
    public async Task A_switched_off_console_does_not_listen_and_its_pages_say_when_a_capability_is_off()
    {
        await using (TestServer off = await TestServer.StartAsync(null, "--Console:Enabled=false"))
        {
            Assert.ThrowsExactly<InvalidOperationException>(() => off.ConsoleEndPoint);
        }

        await using TestServer server = await TestServer.StartAsync(null, "--Jobs:Enabled=false");
        using HttpClient http = Client(server);
        Assert.AreEqual("""{"enabled":false,"capability":"Jobs"}""", await http.GetStringAsync("/api/jobs"));
    }

    [TestMethod]
    public async Task A_bad_console_setting_stops_the_start_with_its_name()
    {
        InvalidOperationException refused = await Assert.ThrowsExactlyAsync<InvalidOperationException>(() => TestServer.StartAsync(null, "--Console:MaxUpdatesPerSecond=0"));
        StringAssert.Contains(refused.Message, "Console:MaxUpdatesPerSecond");
    }
}
