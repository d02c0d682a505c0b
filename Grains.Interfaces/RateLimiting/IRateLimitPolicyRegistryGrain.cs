using Orleans.Concurrency;

namespace Reliability.RateLimiting;

/// <summary>
/// The durable list of policies (one registry, key <see cref="DefaultKey"/>). Every change bumps the
/// version; silos poll <see cref="GetIfNewer"/> to keep their caches current within a second.
/// </summary>
[Alias("ratelimit.registry")]
public interface IRateLimitPolicyRegistryGrain : IGrainWithStringKey
{
    const string DefaultKey = "default";

    /// <summary>Creates or replaces a policy; all fields are checked before anything changes.</summary>
    Task<PolicyChange> Upsert(RateLimitPolicy policy);

    Task<PolicyChange> Remove(string name);

    [AlwaysInterleave]
    Task<PolicySet> GetAll();

    /// <summary>The policies if the registry is past <paramref name="knownVersion"/>, else null.</summary>
    [AlwaysInterleave]
    Task<PolicySet?> GetIfNewer(long knownVersion);
}
