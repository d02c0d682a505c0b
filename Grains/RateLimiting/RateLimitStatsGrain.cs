namespace Reliability.RateLimiting;

/// <summary>The latest totals of each silo, summed on request. Kept in memory: silos re-report every two seconds.</summary>
public sealed class RateLimitStatsGrain : Grain, IRateLimitStatsGrain
{
    private readonly Dictionary<string, IReadOnlyDictionary<string, PolicyCounters>> _bySilo = new(StringComparer.Ordinal);

    public Task Report(string silo, IReadOnlyDictionary<string, PolicyCounters> totals)
    {
        _bySilo[silo] = totals;
        return Task.CompletedTask;
    }

    public Task<IReadOnlyDictionary<string, PolicyCounters>> GetTotals()
    {
        var sum = new Dictionary<string, PolicyCounters>(StringComparer.Ordinal);
        foreach (var (policy, counters) in _bySilo.Values.SelectMany(t => t))
        {
            sum[policy] = sum.TryGetValue(policy, out var existing) ? existing.Add(counters) : counters;
        }

        return Task.FromResult<IReadOnlyDictionary<string, PolicyCounters>>(sum);
    }
}
