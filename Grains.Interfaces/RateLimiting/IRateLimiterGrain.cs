namespace Reliability.RateLimiting;

/// <summary>
/// The buckets of one subject (grain key <c>s:subject</c>, see <see cref="RateLimiterKeys"/>), one per policy it was checked against. One activation per
/// subject in the cluster makes each check atomic without a lock.
/// </summary>
[Alias("ratelimit.limiter")]
public interface IRateLimiterGrain : IGrainWithStringKey
{
    ValueTask<RateLimitDecision> Check(RateLimitRequest request);

    /// <summary>
    /// A check against policies given with it instead of named in the registry: the rules of the Envoy
    /// rate-limit service, which live in its own configuration. The decision carries the time it was taken
    /// (<see cref="RateLimitDecision.DecidedAt"/>), for a <see cref="Refund"/>.
    /// </summary>
    ValueTask<RateLimitDecision> CheckWith(System.Collections.Immutable.ImmutableArray<RateLimitPolicy> policies, long cost);

    /// <summary>
    /// Gives back what an allowed <see cref="CheckWith"/> consumed, because a check decided together with
    /// other subjects' was denied by one of them: all or nothing across grains.
    /// </summary>
    ValueTask Refund(RateLimitDecision decision);
}
