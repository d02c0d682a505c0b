namespace Reliability.RateLimiting;

/// <summary>Policies a new registry starts with.</summary>
public static class DefaultPolicies
{
    /// <summary>Limits the HTTP API itself, per API key or client address: bursts of 200, 100 per second sustained.</summary>
    public static readonly RateLimitPolicy HttpApi = new("http-api", RateLimitAlgorithm.TokenBucket, Limit: 200, Period: TimeSpan.FromSeconds(1), Rate: 100);

    public static IReadOnlyList<RateLimitPolicy> All { get; } = [HttpApi];
}
