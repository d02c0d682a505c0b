using Microsoft.Extensions.Hosting;
using Microsoft.Extensions.Logging;

namespace Reliability.RateLimiting;

/// <summary>
/// This silo's copy of the policies, refreshed from the registry every half second, so a change reaches
/// every silo within a second and a check costs no extra grain call. A policy the cache does not know
/// yet triggers an immediate refresh, so a brand-new policy works at once; misses that arrive while a
/// refresh is under way wait for that one, so a flood of unknown names costs one registry call at a time.
/// </summary>
public sealed partial class RateLimitPolicyCache(IGrainFactory grains, TimeProvider time, ILogger<RateLimitPolicyCache> logger) : BackgroundService
{
    public static readonly TimeSpan RefreshPeriod = TimeSpan.FromMilliseconds(500);

    private readonly Lock _gate = new();
    private Task _refresh = Task.CompletedTask;
    private PolicySet _current = PolicySet.Empty;

    public PolicySet Current => Volatile.Read(ref _current);

    public bool TryResolve(IReadOnlyList<string> names, out IReadOnlyList<RateLimitPolicy> resolved, out string? missing)
    {
        var set = Current.Policies;
        if (names.Count == 1)
        {
            var found = set.TryGetValue(names[0], out var single);
            resolved = found ? new SinglePolicy(single!) : [];
            missing = found ? null : names[0];
            return found;
        }

        var result = new RateLimitPolicy[names.Count];
        for (var i = 0; i < names.Count; i++)
        {
            if (!set.TryGetValue(names[i], out var policy))
            {
                resolved = [];
                missing = names[i];
                return false;
            }

            result[i] = policy;
        }

        resolved = result;
        missing = null;
        return true;
    }

    /// <summary>Fetches newer policies, or joins the fetch already under way.</summary>
    public Task RefreshAsync()
    {
        lock (_gate)
        {
            return _refresh.IsCompleted ? _refresh = FetchAsync() : _refresh;
        }
    }

    private async Task FetchAsync()
    {
        var newer = await grains.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey).GetIfNewer(Current.Version);
        if (newer is not null && newer.Version > Current.Version)
        {
            Volatile.Write(ref _current, newer);
            LogPoliciesUpdated(newer.Version, newer.Policies.Count);
        }
    }

    protected override async Task ExecuteAsync(CancellationToken stoppingToken)
    {
        using var timer = new PeriodicTimer(RefreshPeriod, time);
        do
        {
            try
            {
                await RefreshAsync();
            }
            catch (Exception ex) when (!stoppingToken.IsCancellationRequested)
            {
                // The registry is unreachable for a moment (its silo died, the silo is starting, a partition made the
                // directory cancel the call): keep the last known policies. Only this silo's own stop ends the loop.
                LogRefreshFailed(ex.Message);
            }
        }
        while (await timer.WaitForNextTickAsync(stoppingToken));
    }

    [LoggerMessage(Level = LogLevel.Information, Message = "Rate-limit policies updated to version {Version} ({Count} policies)")]
    private partial void LogPoliciesUpdated(long version, int count);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Rate-limit policy refresh failed: {Reason}")]
    private partial void LogRefreshFailed(string reason);

    /// <summary>A one-element list without an array behind it: most checks name one policy.</summary>
    private sealed class SinglePolicy(RateLimitPolicy policy) : IReadOnlyList<RateLimitPolicy>
    {
        public int Count => 1;

        public RateLimitPolicy this[int index] => index == 0 ? policy : throw new ArgumentOutOfRangeException(nameof(index));

        public IEnumerator<RateLimitPolicy> GetEnumerator()
        {
            yield return policy;
        }

        System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
    }
}
