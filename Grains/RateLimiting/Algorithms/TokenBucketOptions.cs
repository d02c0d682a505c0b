namespace Reliability.RateLimiting.Algorithms;

/// <summary>A bucket of <see cref="Capacity"/> tokens, topped up by <see cref="TokensPerPeriod"/> at the end of every <see cref="Period"/>.</summary>
public sealed record TokenBucketOptions
{
    public TokenBucketOptions(long capacity, long tokensPerPeriod, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(tokensPerPeriod, 1);
        AlgorithmLimits.RequirePeriod(period);
        Capacity = capacity;
        TokensPerPeriod = tokensPerPeriod;
        Period = period;
    }

    public long Capacity { get; }

    public long TokensPerPeriod { get; }

    public TimeSpan Period { get; }
}
