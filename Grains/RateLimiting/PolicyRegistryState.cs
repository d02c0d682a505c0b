using System.Collections.Immutable;

namespace Reliability.RateLimiting;

[GenerateSerializer, Immutable, Alias("ratelimit.registry-state")]
public sealed record PolicyRegistryState(long Version, ImmutableDictionary<string, RateLimitPolicy> Policies)
{
    public PolicyRegistryState() : this(0, PolicySet.Empty.Policies)
    {
    }
}
