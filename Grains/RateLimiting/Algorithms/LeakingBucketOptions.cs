namespace Reliability.RateLimiting.Algorithms;

/// <summary>A queue of <see cref="Capacity"/> requests that drains at a constant <see cref="RequestsPerPeriod"/> per <see cref="Period"/>.</summary>
public sealed record LeakingBucketOptions
{
    public LeakingBucketOptions(long capacity, long requestsPerPeriod, TimeSpan period)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(capacity, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(requestsPerPeriod, 1);
        AlgorithmLimits.RequirePeriod(period);
        if (requestsPerPeriod > period.Ticks)
        {
            throw new ArgumentOutOfRangeException(nameof(requestsPerPeriod), requestsPerPeriod, "requestsPerPeriod cannot exceed one request per 100 ns.");
        }

        Capacity = capacity;
        RequestsPerPeriod = requestsPerPeriod;
        Period = period;
    }

    public long Capacity { get; }

    public long RequestsPerPeriod { get; }

    public TimeSpan Period { get; }
}
