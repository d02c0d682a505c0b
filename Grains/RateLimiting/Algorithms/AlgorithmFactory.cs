namespace Reliability.RateLimiting.Algorithms;

/// <summary>Turns a policy into a bucket, adapts a bucket to a changed policy, and rebuilds a saved one.</summary>
public static class AlgorithmFactory
{
    public static IRateLimitAlgorithm Create(RateLimitPolicy policy, long now) => policy.Algorithm switch
    {
        RateLimitAlgorithm.TokenBucket => new TokenBucket(new TokenBucketOptions(policy.Limit, policy.Rate, policy.Period), now),
        RateLimitAlgorithm.LeakingBucket => new LeakingBucket(new LeakingBucketOptions(policy.Limit, policy.Rate, policy.Period), now),
        RateLimitAlgorithm.FixedWindow => new FixedWindowCounter(new WindowOptions(policy.Limit, policy.Period)),
        RateLimitAlgorithm.SlidingWindowLog => new SlidingWindowLog(new WindowOptions(policy.Limit, policy.Period)),
        RateLimitAlgorithm.SlidingWindowCounter => new SlidingWindowCounter(new WindowOptions(policy.Limit, policy.Period)),
        _ => throw new ArgumentOutOfRangeException(nameof(policy), policy.Algorithm, "Unknown algorithm."),
    };

    /// <summary>
    /// Applies new limits to a bucket of the same algorithm, keeping what it has counted. A policy that
    /// switched algorithm gets a fresh bucket: counts of one algorithm mean nothing to another.
    /// </summary>
    public static IRateLimitAlgorithm Adapt(IRateLimitAlgorithm bucket, RateLimitPolicy policy, long now)
    {
        switch (bucket, policy.Algorithm)
        {
            case (TokenBucket token, RateLimitAlgorithm.TokenBucket):
                token.Reconfigure(new TokenBucketOptions(policy.Limit, policy.Rate, policy.Period), now);
                return token;
            case (LeakingBucket leaking, RateLimitAlgorithm.LeakingBucket):
                leaking.Reconfigure(new LeakingBucketOptions(policy.Limit, policy.Rate, policy.Period), now);
                return leaking;
            case (FixedWindowCounter fixedWindow, RateLimitAlgorithm.FixedWindow):
                fixedWindow.Reconfigure(new WindowOptions(policy.Limit, policy.Period), now);
                return fixedWindow;
            case (SlidingWindowLog log, RateLimitAlgorithm.SlidingWindowLog):
                log.Reconfigure(new WindowOptions(policy.Limit, policy.Period), now);
                return log;
            case (SlidingWindowCounter counter, RateLimitAlgorithm.SlidingWindowCounter):
                counter.Reconfigure(new WindowOptions(policy.Limit, policy.Period), now);
                return counter;
            default:
                return Create(policy, now);
        }
    }

    public static IRateLimitAlgorithm Restore(RateLimitPolicy policy, long[] state, long now)
    {
        var bucket = Create(policy, now);
        bucket.Restore(state);
        return bucket;
    }
}
