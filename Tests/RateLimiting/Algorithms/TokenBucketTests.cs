using Reliability.RateLimiting;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.Tests.RateLimiting.Algorithms;

public sealed class TokenBucketTests : AlgorithmContract
{
    protected override RateLimitPolicy Policy(long limit, TimeSpan window) =>
        new("tb", RateLimitAlgorithm.TokenBucket, limit, window, Rate: limit);

    private TokenBucket Bucket(long capacity, long rate, TimeSpan period) => new(new TokenBucketOptions(capacity, rate, period), Now);

    [Fact]
    public void Tokens_AfterAnyIdleTime_NeverExceedCapacity()
    {
        var bucket = Bucket(capacity: 10, rate: 3, TimeSpan.FromSeconds(1));
        bucket.Consume(10, Now);

        Clock.Advance(TimeSpan.FromSeconds(2));
        Assert.Equal(6, bucket.Tokens(Now));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(9, bucket.Tokens(Now));
        Clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(10, bucket.Tokens(Now));
        Clock.Advance(TimeSpan.FromDays(365));
        Assert.Equal(10, bucket.Tokens(Now));
    }

    [Fact]
    public void Refill_HappensPerWholePeriod_NotContinuously()
    {
        var bucket = Bucket(capacity: 4, rate: 2, TimeSpan.FromSeconds(1));
        bucket.Consume(4, Now);

        Clock.Advance(TimeSpan.FromMilliseconds(999));
        Assert.Equal(0, bucket.Tokens(Now));
        Clock.Advance(TimeSpan.FromMilliseconds(1));
        Assert.Equal(2, bucket.Tokens(Now));
    }

    [Fact]
    public void Denied_RetryAfterIsTheEndOfThePeriodThatRefillsEnough()
    {
        var bucket = Bucket(capacity: 4, rate: 1, TimeSpan.FromSeconds(1));
        bucket.Consume(4, Now);
        Clock.Advance(TimeSpan.FromMilliseconds(250));

        var verdict = bucket.Evaluate(3, Now);

        Assert.False(verdict.Allowed);
        Assert.Equal(TimeSpan.FromMilliseconds(2750).Ticks, verdict.RetryAfter);
        Assert.Equal(TimeSpan.FromMilliseconds(3750).Ticks, verdict.ResetAfter);
    }

    [Fact]
    public void Reconfigure_KeepsTheTokensHeld_CutToTheNewCapacity()
    {
        var bucket = Bucket(capacity: 10, rate: 1, TimeSpan.FromSeconds(1));
        bucket.Consume(4, Now);

        bucket.Reconfigure(new TokenBucketOptions(20, 1, TimeSpan.FromSeconds(1)), Now);
        Assert.Equal(6, bucket.Tokens(Now));
        bucket.Reconfigure(new TokenBucketOptions(3, 1, TimeSpan.FromSeconds(1)), Now);
        Assert.Equal(3, bucket.Tokens(Now));
    }

    [Theory]
    [InlineData(0, 1, 1000)]
    [InlineData(5, 0, 1000)]
    [InlineData(5, 1, 0)]
    public void Options_RejectNonsense_NamingTheParameter(long capacity, long rate, int periodMs)
    {
        var error = Assert.ThrowsAny<ArgumentOutOfRangeException>(() => new TokenBucketOptions(capacity, rate, TimeSpan.FromMilliseconds(periodMs)));
        Assert.Contains(capacity < 1 ? "capacity" : rate < 1 ? "tokensPerPeriod" : "period", error.ParamName);
    }
}
