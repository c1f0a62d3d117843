using Microsoft.AspNetCore.Server.Kestrel.Core;

namespace Rto.Server.Endpoints;

/// <summary>
/// Reads Kestrel's HTTP limits from the <c>Kestrel:Limits</c> section: keep-alive and header
/// timeouts, minimum data rates, HTTP/2 streams. They hold for every HTTP endpoint of the server
/// (Kestrel has no per-endpoint form); the raw TCP endpoints have <see cref="TcpEndpointOptions"/>.
/// </summary>
internal static class KestrelLimits
{
    public const string SectionPath = "Kestrel:Limits";

    public static void Bind(KestrelServerLimits limits, IConfiguration configuration)
    {
        IConfigurationSection section = configuration.GetSection(SectionPath);
        section.Bind(limits);

        // A MinDataRate cannot be changed in place, so the binder leaves the defaults as they are.
        limits.MinRequestBodyDataRate = DataRate(section.GetSection(nameof(limits.MinRequestBodyDataRate)), limits.MinRequestBodyDataRate);
        limits.MinResponseDataRate = DataRate(section.GetSection(nameof(limits.MinResponseDataRate)), limits.MinResponseDataRate);
    }

    /// <summary>The configured rate; <c>BytesPerSecond</c> 0 turns it off.</summary>
    private static MinDataRate? DataRate(IConfigurationSection section, MinDataRate? current)
    {
        if (!section.Exists())
        {
            return current;
        }

        double bytesPerSecond = section.GetValue(nameof(MinDataRate.BytesPerSecond), current?.BytesPerSecond ?? 240);
        TimeSpan gracePeriod = section.GetValue(nameof(MinDataRate.GracePeriod), current?.GracePeriod ?? TimeSpan.FromSeconds(5));
        return bytesPerSecond == 0 ? null : new MinDataRate(bytesPerSecond, gracePeriod);
    }
}
