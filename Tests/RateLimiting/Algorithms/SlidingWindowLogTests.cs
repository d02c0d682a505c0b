using Reliability.RateLimiting;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.Tests.RateLimiting.Algorithms;

public sealed class SlidingWindowLogTests : AlgorithmContract
{
    protected override RateLimitPolicy Policy(long limit, TimeSpan window) => new("swl", RateLimitAlgorithm.SlidingWindowLog, limit, window);

    [Fact]
    public void Log_KeepsOnlyAdmittedRequests_SoDeniedRetriesDoNotGrowIt()
    {
        var log = new SlidingWindowLog(new WindowOptions(3, TimeSpan.FromMinutes(1)));
        for (var i = 0; i < 3; i++)
        {
            log.Consume(1, Now);
        }

        for (var i = 0; i < 10_000; i++)
        {
            Clock.Advance(TimeSpan.FromMilliseconds(1));
            Assert.False(log.Evaluate(1, Now).Allowed);
        }

        Assert.Equal(3, log.Entries);
    }

    [Fact]
    public void Entry_LeavesTheWindowExactlyOneWindowAfterItWasAdmitted()
    {
        var log = new SlidingWindowLog(new WindowOptions(2, TimeSpan.FromMinutes(1)));
        log.Consume(1, Now);
        Clock.Advance(TimeSpan.FromSeconds(20));
        log.Consume(1, Now);

        var denied = log.Evaluate(1, Now);

        Assert.Equal(TimeSpan.FromSeconds(40).Ticks, denied.RetryAfter);
        Assert.Equal(TimeSpan.FromSeconds(60).Ticks, denied.ResetAfter);
    }
}
