using Microsoft.Extensions.Time.Testing;
using Reliability.Infrastructure;
using Reliability.RateLimiting;

namespace Reliability.Tests.RateLimiting;

public sealed class SubjectBucketsTests
{
    private static readonly RateLimitPolicy PerSecond = new("per-second", RateLimitAlgorithm.TokenBucket, 5, TimeSpan.FromSeconds(1), Rate: 5);
    private static readonly RateLimitPolicy PerMinute = new("per-minute", RateLimitAlgorithm.FixedWindow, 8, TimeSpan.FromMinutes(1));

    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 1, 1, 0, 0, 0, TimeSpan.Zero));
    private readonly SubjectBuckets _buckets = new();

    private long Now => UnixTicks.Now(_clock);

    [Fact]
    public void Check_DeniedByOnePolicy_ConsumesFromNoneOfThem()
    {
        _buckets.Check([PerSecond], 5, Now);

        var denied = _buckets.Check([PerSecond, PerMinute], 1, Now);
        var minuteAfter = _buckets.Check([PerMinute], 0, Now);

        Assert.False(denied.Allowed);
        Assert.Equal("per-second", denied.DecidedBy);
        Assert.True(denied.Policies.Single(p => p.Policy == "per-minute").Allowed);
        Assert.Equal(8, minuteAfter.Remaining);
    }

    [Fact]
    public void Check_AllowedByAll_ConsumesFromEach_AndIsDecidedByTheTightest()
    {
        var allowed = _buckets.Check([PerSecond, PerMinute], 3, Now);

        Assert.True(allowed.Allowed);
        Assert.Equal("per-second", allowed.DecidedBy);
        Assert.Equal(2, allowed.Remaining);
        Assert.Equal(5, allowed.Policies.Single(p => p.Policy == "per-minute").Remaining);
    }

    [Fact]
    public void Check_DeniedByTwo_ReportsTheLongerRetryAfter()
    {
        _buckets.Check([PerSecond, PerMinute], 5, Now);
        _clock.Advance(TimeSpan.FromSeconds(1));
        _buckets.Check([PerSecond, PerMinute], 3, Now);

        var denied = _buckets.Check([PerSecond, PerMinute], 3, Now);

        Assert.False(denied.Allowed);
        Assert.Equal("per-minute", denied.DecidedBy);
        Assert.Equal(TimeSpan.FromSeconds(59), denied.RetryAfter);
    }

    [Fact]
    public void ShadowPolicy_WouldDeny_ButTheCheckIsAllowedAndItsDenialCounted()
    {
        var shadow = PerSecond with { Name = "shadow", Limit = 1, Rate = 1, Shadow = true };
        _buckets.Check([shadow], 1, Now);

        var decision = _buckets.Check([shadow, PerMinute], 1, Now);

        Assert.True(decision.Allowed);
        Assert.Equal("per-minute", decision.DecidedBy);
        var shadowDecision = decision.Policies.Single(p => p.Policy == "shadow");
        Assert.False(shadowDecision.Allowed);
        Assert.True(shadowDecision.Shadow);
    }

    [Fact]
    public void Check_CostAboveALimit_IsRejectedAsInvalid_NamingCost()
    {
        var decision = _buckets.Check([PerSecond, PerMinute], 6, Now);

        Assert.Equal(RateLimitProblemKind.InvalidRequest, decision.Problem?.Kind);
        Assert.Equal("cost", decision.Problem?.Error.Field);
        Assert.Equal(0, _buckets.Count);
    }

    [Fact]
    public void ChangedPolicy_IsAdoptedAtTheNextDecision_KeepingTheCount()
    {
        _buckets.Check([PerMinute], 6, Now);

        var raised = _buckets.Check([PerMinute with { Limit = 20 }], 0, Now);
        var lowered = _buckets.Check([PerMinute with { Limit = 7 }], 2, Now);

        Assert.Equal(14, raised.Remaining);
        Assert.False(lowered.Allowed);
        Assert.Equal(1, lowered.Remaining);
    }

    [Fact]
    public void Check_WithoutCost_UsesEachPolicysDefaultCost()
    {
        var expensive = PerMinute with { DefaultCost = 4 };

        var decision = _buckets.Check([expensive], null, Now);

        Assert.Equal(4, decision.Cost);
        Assert.Equal(4, decision.Remaining);
    }

    [Fact]
    public void SaveAndRestore_KeepOnlyBucketsThatAreNotAtRest()
    {
        var daily = new RateLimitPolicy("daily", RateLimitAlgorithm.FixedWindow, 100, TimeSpan.FromDays(1));
        _buckets.Check([PerSecond, daily], 1, Now);
        _clock.Advance(TimeSpan.FromMinutes(5));

        var saved = _buckets.Save(Now);
        var restored = new SubjectBuckets();
        restored.Restore(saved, Now);

        Assert.Equal(["daily"], saved.Select(s => s.Policy.Name));
        Assert.Equal(98, restored.Check([daily], 1, Now).Remaining);
    }
}
