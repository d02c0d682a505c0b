using Microsoft.Extensions.Time.Testing;
using Reliability.Infrastructure;
using Reliability.RateLimiting;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.Tests.RateLimiting.Algorithms;

/// <summary>The textbook weakness of the fixed window, and the sliding algorithms that do not have it.</summary>
public sealed class WindowEdgeTests
{
    /// <summary>3 per 5 minutes; three requests late in one window and three early in the next, all within two minutes.</summary>
    private static readonly TimeSpan[] Arrivals =
    [
        TimeSpan.Parse("00:04:00"), TimeSpan.Parse("00:04:30"), TimeSpan.Parse("00:04:59"),
        TimeSpan.Parse("00:05:00"), TimeSpan.Parse("00:05:30"), TimeSpan.Parse("00:05:59"),
    ];

    /// <summary>
    /// The fixed window admits all six (twice its limit); the exact log admits three. The counter admits four:
    /// at 5:30 the previous window's three weigh 3 × 270/300 = 2.7, rounded down to 2, so one more fits —
    /// the approximation the algorithm trades for keeping two numbers instead of a log.
    /// </summary>
    [Theory]
    [InlineData(RateLimitAlgorithm.FixedWindow, 6)]
    [InlineData(RateLimitAlgorithm.SlidingWindowLog, 3)]
    [InlineData(RateLimitAlgorithm.SlidingWindowCounter, 4)]
    public void ThreePerFiveMinutes_SixRequestsAcrossTheWindowEdgeWithinTwoMinutes(RateLimitAlgorithm algorithm, int expectedAdmitted)
    {
        var midnight = new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);
        var clock = new FakeTimeProvider(midnight);
        var bucket = AlgorithmFactory.Create(new RateLimitPolicy("p", algorithm, 3, TimeSpan.FromMinutes(5)), UnixTicks.Now(clock));

        var admitted = 0;
        foreach (var arrival in Arrivals)
        {
            clock.SetUtcNow(midnight + arrival);
            var now = UnixTicks.Now(clock);
            if (bucket.Evaluate(1, now).Allowed)
            {
                bucket.Consume(1, now);
                admitted++;
            }
        }

        Assert.Equal(expectedAdmitted, admitted);
    }
}
