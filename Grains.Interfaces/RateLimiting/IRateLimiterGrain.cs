namespace Reliability.RateLimiting;

/// <summary>
/// The buckets of one subject (grain key <c>s:subject</c>, see <see cref="RateLimiterKeys"/>), one per policy it was checked against. One activation per
/// subject in the cluster makes each check atomic without a lock.
/// </summary>
[Alias("ratelimit.limiter")]
public interface IRateLimiterGrain : IGrainWithStringKey
{
    ValueTask<RateLimitDecision> Check(RateLimitRequest request);
}
