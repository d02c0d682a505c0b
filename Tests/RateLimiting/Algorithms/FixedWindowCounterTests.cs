using Reliability.RateLimiting;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.Tests.RateLimiting.Algorithms;

public sealed class FixedWindowCounterTests : AlgorithmContract
{
    protected override RateLimitPolicy Policy(long limit, TimeSpan window) => new("fw", RateLimitAlgorithm.FixedWindow, limit, window);

    [Fact]
    public void Windows_AreAlignedToTheEpoch_NotToTheFirstRequest()
    {
        var bucket = new FixedWindowCounter(new WindowOptions(2, TimeSpan.FromMinutes(1)));
        Clock.Advance(TimeSpan.FromSeconds(50));
        bucket.Consume(2, Now);

        var denied = bucket.Evaluate(1, Now);
        Clock.Advance(TimeSpan.FromSeconds(10));
        var nextWindow = bucket.Evaluate(1, Now);

        Assert.Equal(TimeSpan.FromSeconds(10).Ticks, denied.RetryAfter);
        Assert.True(nextWindow.Allowed);
        Assert.Equal(1, nextWindow.Remaining);
    }

    [Fact]
    public void Reconfigure_KeepsTheCountOfTheCurrentWindow()
    {
        var bucket = new FixedWindowCounter(new WindowOptions(10, TimeSpan.FromMinutes(1)));
        bucket.Consume(7, Now);

        bucket.Reconfigure(new WindowOptions(8, TimeSpan.FromMinutes(1)), Now);

        Assert.Equal(1, bucket.Evaluate(0, Now).Remaining);
        Assert.False(bucket.Evaluate(2, Now).Allowed);
    }
}
