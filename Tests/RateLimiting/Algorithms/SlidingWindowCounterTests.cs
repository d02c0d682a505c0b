using Reliability.RateLimiting;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.Tests.RateLimiting.Algorithms;

public sealed class SlidingWindowCounterTests : AlgorithmContract
{
    protected override RateLimitPolicy Policy(long limit, TimeSpan window) => new("swc", RateLimitAlgorithm.SlidingWindowCounter, limit, window);

    [Fact]
    public void PreviousWindow_WithSixRequests_CountsOneWhenTenSecondsOfItOverlap()
    {
        var counter = new SlidingWindowCounter(new WindowOptions(10, TimeSpan.FromMinutes(1)));
        counter.Consume(6, Now);

        Clock.Advance(TimeSpan.FromSeconds(110));
        var (numerator, denominator) = counter.Estimate(Now);
        var verdict = counter.Evaluate(1, Now);

        Assert.Equal(1, numerator / denominator);
        Assert.Equal(0, numerator % denominator);
        Assert.Equal(8, verdict.Remaining);
    }

    [Fact]
    public void TextbookExample_SevenPerMinute_FiveBeforeThreeNow_ThirtyPercentIn_Allows()
    {
        // 3 + 5 × 70% = 6.5 requests in the rolling minute, so one more fits under 7.
        var counter = new SlidingWindowCounter(new WindowOptions(7, TimeSpan.FromMinutes(1)));
        counter.Consume(5, Now);
        Clock.Advance(TimeSpan.FromSeconds(60));
        counter.Consume(3, Now);
        Clock.Advance(TimeSpan.FromSeconds(18));

        Assert.True(counter.Evaluate(1, Now).Allowed);
        Assert.False(counter.Evaluate(2, Now).Allowed);
    }

    [Fact]
    public void Reconfigure_KeepsBothCounts()
    {
        var counter = new SlidingWindowCounter(new WindowOptions(10, TimeSpan.FromMinutes(1)));
        counter.Consume(4, Now);
        Clock.Advance(TimeSpan.FromSeconds(60));
        counter.Consume(2, Now);

        counter.Reconfigure(new WindowOptions(5, TimeSpan.FromMinutes(1)), Now);

        var (numerator, denominator) = counter.Estimate(Now);
        Assert.Equal(6, numerator / denominator);
        Assert.False(counter.Evaluate(1, Now).Allowed);
    }
}
