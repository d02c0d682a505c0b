using System.Collections.Immutable;

namespace Reliability.RateLimiting;

/// <summary>"May this subject spend <see cref="Cost"/> under these policies?" A null cost means each policy's default cost; 0 is a peek.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.request")]
public sealed record RateLimitRequest(ImmutableArray<string> Policies, long? Cost = null)
{
    public RateLimitRequest(IEnumerable<string> policies, long? cost = null) : this(policies.ToImmutableArray(), cost)
    {
    }
}
