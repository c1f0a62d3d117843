using Rto.Server.Endpoints;

namespace Rto.Server.Console;

/// <summary>
/// Settings of the operator console (section <c>Console</c>): live pages of every capability and the
/// Prometheus scrape endpoint <c>/metrics</c>, on one HTTP/1.1 port. It listens on loopback by default
/// because it is plaintext HTTP; with access tokens set it asks for one (<see cref="AccessTokens"/>).
/// </summary>
public sealed class ConsoleOptions() : EndpointOptions(8092)
{
    /// <summary>The configuration section these options bind to.</summary>
    public const string SectionName = "Console";

    /// <summary>
    /// The tokens that open the console (a login form sets a cookie; scripts and Prometheus send
    /// <c>Authorization: Bearer …</c>). Empty: the console accepts the <c>Optimization:AccessTokens</c>
    /// instead, so a server whose sessions are protected never shows them to anyone; both empty leaves it open.
    /// </summary>
    public List<string> AccessTokens { get; set; } = [];

    /// <summary>The most updates one live page receives per second; changes in between are sent together.</summary>
    public int MaxUpdatesPerSecond { get; set; } = 4;

    /// <summary>The most points of one series sent to a chart; longer series are thinned to the minimum and maximum per interval.</summary>
    public int MaxChartPoints { get; set; } = 2000;

    protected override void ValidateSettings()
    {
        if (MaxUpdatesPerSecond is < 1 or > 50)
        {
            throw new InvalidOperationException($"Console:MaxUpdatesPerSecond must be between 1 and 50, not {MaxUpdatesPerSecond}.");
        }

        if (MaxChartPoints is < 10 or > 1_000_000)
        {
            throw new InvalidOperationException($"Console:MaxChartPoints must be between 10 and 1000000, not {MaxChartPoints}.");
        }

        if (AccessTokens.Any(string.IsNullOrEmpty))
        {
            throw new InvalidOperationException("Console:AccessTokens must not contain an empty token.");
        }
    }
}
