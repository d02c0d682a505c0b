using Microsoft.Extensions.DependencyInjection.Extensions;
using Reliability.RateLimiting;

namespace Reliability.Silo.Hosting;

public static class RateLimitingHosting
{
    /// <summary>The per-silo policy cache, decision metrics and their publisher. Safe to call twice.</summary>
    public static ISiloBuilder AddRateLimiting(this ISiloBuilder silo)
    {
        var services = silo.Services;
        if (services.Any(d => d.ServiceType == typeof(RateLimitPolicyCache)))
        {
            return silo;
        }

        services.AddMetrics();
        services.TryAddSingleton(TimeProvider.System);
        services.AddSingleton<RateLimitMetrics>();
        services.AddSingleton<RateLimitPolicyCache>();
        services.AddHostedService(sp => sp.GetRequiredService<RateLimitPolicyCache>());
        services.AddHostedService<RateLimitStatsPublisher>();
        return silo;
    }
}
