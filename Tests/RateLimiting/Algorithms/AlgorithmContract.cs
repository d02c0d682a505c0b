using Microsoft.Extensions.Time.Testing;
using Reliability.Infrastructure;
using Reliability.RateLimiting;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.Tests.RateLimiting.Algorithms;

/// <summary>
/// What every algorithm must do, whatever its shape: each algorithm's test class fulfils this contract by
/// saying how to build a policy of a given limit and window. Time comes from a fake clock; nothing sleeps.
/// </summary>
public abstract class AlgorithmContract
{
    /// <summary>Midnight: aligned to every window that divides a day.</summary>
    protected static readonly DateTimeOffset Midnight = new(2026, 1, 1, 0, 0, 0, TimeSpan.Zero);

    protected FakeTimeProvider Clock { get; } = new(Midnight);

    protected long Now => UnixTicks.Now(Clock);

    /// <summary>A policy admitting <paramref name="limit"/> units at once and about <paramref name="limit"/> per <paramref name="window"/>.</summary>
    protected abstract RateLimitPolicy Policy(long limit, TimeSpan window);

    protected IRateLimitAlgorithm Create(long limit = 5, TimeSpan? window = null) => AlgorithmFactory.Create(Policy(limit, window ?? TimeSpan.FromSeconds(1)), Now);

    /// <summary>For a check decided with other subjects' and denied by one of them (the Envoy rate-limit service).</summary>
    [Fact]
    public void ARefund_GivesBackExactlyWhatOneConsumptionTook()
    {
        var bucket = Create(limit: 5);
        bucket.Consume(2, Now);
        var before = bucket.Evaluate(0, Now).Remaining;
        var consumedAt = Now;
        bucket.Consume(3, consumedAt);
        var full = bucket.Evaluate(1, Now);

        bucket.Refund(3, consumedAt, Now);

        Assert.False(full.Allowed);
        Assert.Equal(before, bucket.Evaluate(0, Now).Remaining);
        Assert.True(bucket.Evaluate(3, Now).Allowed);
        Assert.False(bucket.Evaluate(4, Now).Allowed);
    }

    [Fact]
    public void Fresh_AllowsTheLimitAtOnce_ThenDenies()
    {
        var bucket = Create(limit: 5);

        for (var i = 0; i < 5; i++)
        {
            var verdict = bucket.Evaluate(1, Now);
            Assert.True(verdict.Allowed, $"request {i + 1} of 5");
            bucket.Consume(1, Now);
        }

        var denied = bucket.Evaluate(1, Now);
        Assert.False(denied.Allowed);
        Assert.Equal(0, denied.Remaining);
        Assert.True(denied.RetryAfter > 0);
    }

    [Fact]
    public void Evaluate_AskedManyTimes_ConsumesNothing()
    {
        var bucket = Create(limit: 3);

        var answers = Enumerable.Range(0, 10).Select(_ => bucket.Evaluate(3, Now)).ToList();

        Assert.All(answers, a => Assert.Equal(answers[0], a));
        Assert.True(answers[0].Allowed);
        Assert.Equal(0, answers[0].Remaining);
    }

    [Fact]
    public void Denial_LeavesTheBucketAsItWas()
    {
        var bucket = Create(limit: 4);
        bucket.Consume(3, Now);
        var before = bucket.Evaluate(1, Now);

        var denied = bucket.Evaluate(2, Now);
        var after = bucket.Evaluate(1, Now);

        Assert.False(denied.Allowed);
        Assert.Equal(before, after);
        Assert.True(after.Allowed);
    }

    [Fact]
    public void Peek_WithCostZero_IsAllowedEvenWhenFull_AndReportsWhatIsLeft()
    {
        var bucket = Create(limit: 2);
        bucket.Consume(2, Now);

        var peek = bucket.Evaluate(0, Now);

        Assert.True(peek.Allowed);
        Assert.Equal(0, peek.Remaining);
        Assert.False(bucket.Evaluate(1, Now).Allowed);
    }

    [Fact]
    public void AtRest_WhenFresh_NotAfterUse_AgainAfterAnHour()
    {
        var bucket = Create(limit: 5);
        Assert.True(bucket.IsAtRest(Now));

        bucket.Consume(1, Now);
        Assert.False(bucket.IsAtRest(Now));

        Clock.Advance(TimeSpan.FromHours(1));
        Assert.True(bucket.IsAtRest(Now));
    }

    /// <summary>
    /// Over a long seeded random run: every denial's retry-after is exact to the tick. A copy of the bucket
    /// (save and restore) still denies one tick before it and allows at it.
    /// </summary>
    [Fact]
    public void RetryAfter_IsExact_DeniedOneTickBefore_AllowedAtIt()
    {
        var policy = Policy(7, TimeSpan.FromSeconds(1));
        var bucket = AlgorithmFactory.Create(policy, Now);
        var random = new Random(20261128);
        var denials = 0;

        for (var step = 0; step < 2000; step++)
        {
            Clock.Advance(TimeSpan.FromTicks(random.Next(0, 3_000_000)));
            var cost = random.Next(1, 4);
            var verdict = bucket.Evaluate(cost, Now);
            if (verdict.Allowed)
            {
                bucket.Consume(cost, Now);
                continue;
            }

            denials++;
            var early = AlgorithmFactory.Restore(policy, bucket.Save(), Now);
            Assert.False(early.Evaluate(cost, Now + verdict.RetryAfter - 1).Allowed, $"step {step}: allowed one tick before retry-after {verdict.RetryAfter}");
            var onTime = AlgorithmFactory.Restore(policy, bucket.Save(), Now);
            Assert.True(onTime.Evaluate(cost, Now + verdict.RetryAfter).Allowed, $"step {step}: still denied at retry-after {verdict.RetryAfter}");
        }

        Assert.True(denials > 100, $"only {denials} denials: the run did not exercise the limit");
    }

    [Fact]
    public void SaveAndRestore_MakeDecisionsIdenticalToTheOriginal()
    {
        var policy = Policy(5, TimeSpan.FromSeconds(1));
        var original = AlgorithmFactory.Create(policy, Now);
        original.Consume(2, Now);
        Clock.Advance(TimeSpan.FromMilliseconds(300));
        original.Consume(2, Now);

        var copy = AlgorithmFactory.Restore(policy, original.Save(), Now);

        foreach (var ms in new[] { 0, 100, 450, 900, 1500 })
        {
            var at = Now + TimeSpan.FromMilliseconds(ms).Ticks;
            Assert.Equal(original.Evaluate(2, at), copy.Evaluate(2, at));
        }
    }
}
