using Microsoft.Playwright;

namespace Rto.Server.Tests.Console;

/// <summary>
/// Debian's chromium, headless, driven through Playwright (whose NuGet package carries its node
/// driver; no browser is downloaded). One browser per test class; one fresh context per page.
/// </summary>
internal sealed class ConsoleBrowser : IAsyncDisposable
{
    /// <summary>The flags of a quiet, offline, sandbox-free headless chromium (tests run as root in CI).</summary>
    public static readonly string[] Flags =
        ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--disable-component-update", "--disable-sync", "--no-first-run"];

    /// <summary>Set to a folder (relative to the repository) to save a screenshot of every page there: <c>docs/images</c>.</summary>
    public const string ScreenshotsVariable = "RTO_CONSOLE_SCREENSHOTS";

    private readonly IPlaywright _playwright;
    private readonly IBrowser _browser;

    private ConsoleBrowser(IPlaywright playwright, IBrowser browser)
    {
        _playwright = playwright;
        _browser = browser;
    }

    public static async Task<ConsoleBrowser> LaunchAsync()
    {
        string executable = Environment.GetEnvironmentVariable("RTO_CHROMIUM") ?? "/usr/bin/chromium";
        Assert.IsTrue(File.Exists(executable), $"{executable} is missing: install Debian's chromium (apt-get install chromium; .ci/run does) or point RTO_CHROMIUM at a Chromium");

        // Slow machines: a page may take a while to load and to receive its first update.
        Assertions.SetDefaultExpectTimeout(30_000);
        IPlaywright playwright = await Playwright.CreateAsync();
        IBrowser browser = await playwright.Chromium.LaunchAsync(new BrowserTypeLaunchOptions { ExecutablePath = executable, Headless = true, Args = Flags, Timeout = 120_000 });
        return new ConsoleBrowser(playwright, browser);
    }

    /// <summary>Opens <paramref name="url"/> in a fresh context, recording every console error and uncaught exception of the page.</summary>
    public async Task<ConsolePage> OpenAsync(Uri url)
    {
        IBrowserContext context = await _browser.NewContextAsync(new BrowserNewContextOptions { ViewportSize = new ViewportSize { Width = 1360, Height = 860 }, Locale = "en-GB" });
        IPage page = await context.NewPageAsync();
        page.SetDefaultTimeout(30_000);
        var consolePage = new ConsolePage(context, page);
        await page.GotoAsync(url.ToString());
        return consolePage;
    }

    public async ValueTask DisposeAsync()
    {
        await _browser.DisposeAsync();
        _playwright.Dispose();
    }
}

/// <summary>One open page and the errors it logged.</summary>
internal sealed class ConsolePage : IAsyncDisposable
{
    private readonly IBrowserContext _context;
    private readonly List<string> _errors = [];

    public ConsolePage(IBrowserContext context, IPage page)
    {
        _context = context;
        Page = page;
        page.Console += (_, message) =>
        {
            if (message.Type == "error")
            {
                lock (_errors)
                {
                    _errors.Add($"console: {message.Text} ({message.Location})");
                }
            }
        };
        page.PageError += (_, error) =>
        {
            lock (_errors)
            {
                _errors.Add($"uncaught: {error}");
            }
        };
    }

    public IPage Page { get; }

    public ILocator this[string selector] => Page.Locator(selector);

    /// <summary>Waits until the chart in the box <paramref name="id"/> holds at least <paramref name="points"/> x values.</summary>
    public Task WaitForChartPointsAsync(string id, int points) =>
        Page.WaitForFunctionAsync(
            "([id, points]) => { const chart = window.RtoCharts && window.RtoCharts[id]; return !!chart && chart.data[0].length >= points; }",
            new object[] { id, points });

    /// <summary>The number of x values of the chart in the box <paramref name="id"/>.</summary>
    public Task<int> ChartPointsAsync(string id) =>
        Page.EvaluateAsync<int>("id => window.RtoCharts && window.RtoCharts[id] ? window.RtoCharts[id].data[0].length : -1", id);

    /// <summary>Fails the test with every console error and uncaught exception the page had.</summary>
    public void AssertNoErrors()
    {
        lock (_errors)
        {
            Assert.IsEmpty(_errors, "the page logged errors:\n" + string.Join("\n", _errors));
        }
    }

    /// <summary>Saves the page as <c>name.png</c> into the folder named by <see cref="ConsoleBrowser.ScreenshotsVariable"/>, if set.</summary>
    public async Task SaveScreenshotAsync(string name)
    {
        string? folder = Environment.GetEnvironmentVariable(ConsoleBrowser.ScreenshotsVariable);
        if (string.IsNullOrEmpty(folder))
        {
            return;
        }

        string directory = Path.IsPathRooted(folder) ? folder : Path.Combine(RepositoryRoot(), folder);
        Directory.CreateDirectory(directory);

        // Charts draw on the next frame after their data arrives.
        await Page.EvaluateAsync("() => new Promise(resolve => requestAnimationFrame(() => requestAnimationFrame(resolve)))");
        await Page.ScreenshotAsync(new PageScreenshotOptions { Path = Path.Combine(directory, name + ".png"), FullPage = true });
    }

    public async ValueTask DisposeAsync() => await _context.DisposeAsync();

    private static string RepositoryRoot()
    {
        for (DirectoryInfo? directory = new(AppContext.BaseDirectory); directory is not null; directory = directory.Parent)
        {
            if (File.Exists(Path.Combine(directory.FullName, "Rto.sln")))
            {
                return directory.FullName;
            }
        }

        throw new InvalidOperationException($"No Rto.sln above {AppContext.BaseDirectory}.");
    }
}
