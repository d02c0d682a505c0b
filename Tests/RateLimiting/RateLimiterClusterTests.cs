using System.Diagnostics;
using Microsoft.Extensions.DependencyInjection;
using Reliability.RateLimiting;
using Reliability.Tests.Infrastructure;

namespace Reliability.Tests.RateLimiting;

[Collection(ClusterCollection.Name)]
public sealed class RateLimiterClusterTests(ClusterFixture fixture)
{
    private IRateLimitPolicyRegistryGrain Registry => fixture.Client.GetGrain<IRateLimitPolicyRegistryGrain>(IRateLimitPolicyRegistryGrain.DefaultKey);

    private async Task<RateLimitPolicy> CreateAsync(RateLimitPolicy policy)
    {
        var change = await Registry.Upsert(policy);
        Assert.True(change.Succeeded, string.Join("; ", change.Errors));
        return policy;
    }

    [Fact]
    public async Task ThousandConcurrentChecks_FromTwoCallers_OnCapacityHundred_AdmitExactlyHundred()
    {
        var policy = await CreateAsync(new RateLimitPolicy($"cap-{Guid.NewGuid():N}"[..20], RateLimitAlgorithm.TokenBucket, 100, TimeSpan.FromDays(1), Rate: 1));
        var subject = $"hot-{Guid.NewGuid():N}";
        // Two independent callers: the test client (through a gateway) and a silo's own grain factory.
        var callers = new[] { (IGrainFactory)fixture.Client, fixture.Cluster.Silos[^1].SiloHost.Services.GetRequiredService<IGrainFactory>() };

        var decisions = await Task.WhenAll(Enumerable.Range(0, 1000).Select(i =>
            callers[i % 2].GetRateLimiter(subject).Check(new RateLimitRequest([policy.Name], 1)).AsTask()));

        Assert.Equal(100, decisions.Count(d => d.Allowed));
        Assert.Equal(900, decisions.Count(d => !d.Allowed && d.Problem is null));
        // Each admitted check saw the one before it: the remainders are exactly 99, 98, …, 0.
        Assert.Equal(Enumerable.Range(0, 100).Select(i => (long)i), decisions.Where(d => d.Allowed).Select(d => d.Remaining).Order());
    }

    [Fact]
    public async Task Check_NamingAPolicyTwice_IsRejected_AndCountsNothing()
    {
        var policy = await CreateAsync(new RateLimitPolicy($"dup-{Guid.NewGuid():N}"[..20], RateLimitAlgorithm.FixedWindow, 2, TimeSpan.FromMinutes(1)));
        var limiter = fixture.Client.GetRateLimiter($"dup-{Guid.NewGuid():N}");

        var twice = await limiter.Check(new RateLimitRequest([policy.Name, policy.Name], 1));
        var peek = await limiter.Check(new RateLimitRequest([policy.Name], 0));

        Assert.Equal(RateLimitProblemKind.InvalidRequest, twice.Problem?.Kind);
        Assert.Equal("policies", twice.Problem?.Error.Field);
        Assert.Equal(2, peek.Remaining);
    }

    [Fact]
    public async Task SubjectOf256Braces_KeepsItsCount_AcrossADeactivation()
    {
        var policy = await CreateAsync(new RateLimitPolicy($"quota-{Guid.NewGuid():N}"[..20], RateLimitAlgorithm.FixedWindow, 5, TimeSpan.FromDays(1)));
        var limiter = fixture.Client.GetRateLimiter(new string('{', RateLimitRules.MaxSubjectLength));

        var spent = await limiter.Check(new RateLimitRequest([policy.Name], 3));
        await fixture.Client.GetGrain<IManagementGrain>(0).ForceActivationCollection(TimeSpan.Zero);
        var peek = await limiter.Check(new RateLimitRequest([policy.Name], 0));

        Assert.True(spent.Allowed);
        Assert.Equal(2, peek.Remaining);
    }

    [Fact]
    public async Task PolicyChange_IsSeenByEverySilo_WithinOneSecond()
    {
        var name = $"live-{Guid.NewGuid():N}"[..20];
        await CreateAsync(new RateLimitPolicy(name, RateLimitAlgorithm.FixedWindow, 10, TimeSpan.FromMinutes(1)));
        var caches = fixture.Cluster.Silos.Select(s => s.SiloHost.Services.GetRequiredService<RateLimitPolicyCache>()).ToList();

        var clock = Stopwatch.StartNew();
        var change = await Registry.Upsert(new RateLimitPolicy(name, RateLimitAlgorithm.FixedWindow, 25, TimeSpan.FromMinutes(1)));
        while (caches.Any(c => c.Current.Version < change.Version) && clock.Elapsed < TimeSpan.FromSeconds(5))
        {
            await Task.Delay(10);
        }

        Assert.All(caches, c => Assert.Equal(25, c.Current.Policies[name].Limit));
        Assert.True(clock.Elapsed < TimeSpan.FromSeconds(1), $"the last silo saw the change after {clock.ElapsedMilliseconds} ms");
    }

    [Fact]
    public async Task Check_AgainstTwoPolicies_DeniedByOne_ConsumesNeither()
    {
        var tight = await CreateAsync(new RateLimitPolicy($"tight-{Guid.NewGuid():N}"[..20], RateLimitAlgorithm.SlidingWindowLog, 2, TimeSpan.FromMinutes(1)));
        var loose = await CreateAsync(new RateLimitPolicy($"loose-{Guid.NewGuid():N}"[..20], RateLimitAlgorithm.SlidingWindowCounter, 50, TimeSpan.FromMinutes(1)));
        var limiter = fixture.Client.GetRateLimiter($"multi-{Guid.NewGuid():N}");

        await limiter.Check(new RateLimitRequest([tight.Name, loose.Name], 2));
        var denied = await limiter.Check(new RateLimitRequest([tight.Name, loose.Name], 1));
        var loosePeek = await limiter.Check(new RateLimitRequest([loose.Name], 0));

        Assert.False(denied.Allowed);
        Assert.Equal(tight.Name, denied.DecidedBy);
        Assert.Equal(48, loosePeek.Remaining);
    }

    [Fact]
    public async Task Check_OfAnUnknownPolicy_AnswersUnknownPolicy_AsAValue()
    {
        var decision = await fixture.Client.GetRateLimiter("someone").Check(new RateLimitRequest(["no-such-policy"]));

        Assert.Equal(RateLimitProblemKind.UnknownPolicy, decision.Problem?.Kind);
        Assert.Contains("no-such-policy", decision.Problem?.Error.Message);
    }

    [Fact]
    public async Task IdleSubject_WithADailyQuota_KeepsItsCountAcrossDeactivation()
    {
        var daily = await CreateAsync(new RateLimitPolicy($"daily-{Guid.NewGuid():N}"[..20], RateLimitAlgorithm.FixedWindow, 10, TimeSpan.FromDays(1)));
        var limiter = fixture.Client.GetRateLimiter($"idle-{Guid.NewGuid():N}");
        await limiter.Check(new RateLimitRequest([daily.Name], 7));

        await fixture.Cluster.DeactivateAsync(limiter);
        var afterReactivation = await limiter.Check(new RateLimitRequest([daily.Name], 0));

        Assert.Equal(3, afterReactivation.Remaining);
    }
}
