namespace Reliability.RateLimiting;

/// <summary>One bucket saved at deactivation: the policy it was built for and its numbers.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.bucket-snapshot")]
public sealed record BucketSnapshot(RateLimitPolicy Policy, long[] State);
