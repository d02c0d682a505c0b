namespace Reliability.RateLimiting;

/// <summary>What a subject's buckets still held when it went idle; empty when everything was at rest.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.limiter-state")]
public sealed record RateLimiterState(IReadOnlyList<BucketSnapshot> Buckets)
{
    public RateLimiterState() : this([])
    {
    }
}
