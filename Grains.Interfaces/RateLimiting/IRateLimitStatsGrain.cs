using Orleans.Concurrency;

namespace Reliability.RateLimiting;

/// <summary>Per-policy decision counts gathered from every silo (each reports its totals since it started).</summary>
[Alias("ratelimit.stats")]
public interface IRateLimitStatsGrain : IGrainWithStringKey
{
    const string DefaultKey = "default";

    Task Report(string silo, IReadOnlyDictionary<string, PolicyCounters> totals);

    [AlwaysInterleave]
    Task<IReadOnlyDictionary<string, PolicyCounters>> GetTotals();
}
