using Reliability.RateLimiting;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.Tests.RateLimiting.Algorithms;

public sealed class LeakingBucketTests : AlgorithmContract
{
    protected override RateLimitPolicy Policy(long limit, TimeSpan window) =>
        new("lb", RateLimitAlgorithm.LeakingBucket, limit, window, Rate: limit);

    private LeakingBucket Bucket(long capacity, long rate, TimeSpan period) => new(new LeakingBucketOptions(capacity, rate, period), Now);

    [Fact]
    public void QueuedRequests_AreDelayedByExactlyOneIntervalEach()
    {
        var bucket = Bucket(capacity: 5, rate: 10, TimeSpan.FromSeconds(1));

        var delays = new List<TimeSpan>();
        for (var i = 0; i < 5; i++)
        {
            var verdict = bucket.Evaluate(1, Now);
            Assert.True(verdict.Allowed);
            delays.Add(TimeSpan.FromTicks(verdict.Delay));
            bucket.Consume(1, Now);
        }

        Assert.Equal([0, 100, 200, 300, 400], delays.Select(d => d.TotalMilliseconds));
    }

    [Fact]
    public void FullQueue_Denies_UntilOneRequestHasLeaked()
    {
        var bucket = Bucket(capacity: 3, rate: 10, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 3; i++)
        {
            bucket.Consume(1, Now);
        }

        var denied = bucket.Evaluate(1, Now);
        Clock.Advance(TimeSpan.FromMilliseconds(100));
        var admitted = bucket.Evaluate(1, Now);

        Assert.False(denied.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(100).Ticks, denied.RetryAfter);
        Assert.True(admitted.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(200).Ticks, admitted.Delay);
    }

    [Fact]
    public void Spacing_IsExact_WhenThePeriodDoesNotDivideEvenly()
    {
        var bucket = Bucket(capacity: 4, rate: 3, TimeSpan.FromSeconds(1));
        var delays = new List<long>();
        for (var i = 0; i < 4; i++)
        {
            delays.Add(bucket.Evaluate(1, Now).Delay);
            bucket.Consume(1, Now);
        }

        // One third of a second is 3,333,333.3 ticks: delays are rounded up to the tick, never drift.
        Assert.Equal([0L, 3_333_334, 6_666_667, 10_000_000], delays);
    }

    [Fact]
    public void Reconfigure_KeepsTheQueue_WhichDrainsAtTheNewRate()
    {
        var bucket = Bucket(capacity: 10, rate: 10, TimeSpan.FromSeconds(1));
        for (var i = 0; i < 4; i++)
        {
            bucket.Consume(1, Now);
        }

        bucket.Reconfigure(new LeakingBucketOptions(10, 2, TimeSpan.FromSeconds(1)), Now);
        var next = bucket.Evaluate(1, Now);

        Assert.Equal(5, next.Remaining);
        Assert.Equal(TimeSpan.FromSeconds(2).Ticks, next.Delay);
    }
}
