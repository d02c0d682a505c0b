using System.Collections.Immutable;
using Reliability.Infrastructure;

namespace Reliability.RateLimiting;

/// <summary>
/// The buckets of one subject. Checks are decided in memory; nothing is written per check. When the
/// subject has been idle for two minutes the activation is collected, and only buckets that still count
/// something (a daily quota, say) are saved and read back on the next activation. A silo crash loses the
/// in-memory counts, which grants at most one fresh burst: the soft-state trade-off of the design.
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed class RateLimiterGrain(
    [PersistentState("limiter", StoreNames.RateLimiting)] IPersistentState<RateLimiterState> saved,
    RateLimitPolicyCache policies,
    RateLimitMetrics metrics,
    TimeProvider time) : Grain, IRateLimiterGrain
{
    private readonly SubjectBuckets _buckets = new();
    private FieldError? _invalidSubject;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        // The key never changes, so it is checked once, not on every call.
        _invalidSubject = RateLimitRules.CheckSubject(RateLimiterKeys.SubjectOf(this.GetPrimaryKeyString()));
        if (saved.RecordExists && saved.State.Buckets.Count > 0)
        {
            _buckets.Restore(saved.State.Buckets, UnixTicks.Now(time));
        }

        return Task.CompletedTask;
    }

    public override async Task OnDeactivateAsync(DeactivationReason reason, CancellationToken cancellationToken)
    {
        var now = UnixTicks.Now(time);
        if (!_buckets.IsAtRest(now))
        {
            saved.State = new RateLimiterState(_buckets.Save(now));
            await saved.WriteStateAsync(cancellationToken);
        }
        else if (saved.RecordExists)
        {
            await saved.ClearStateAsync(cancellationToken);
        }
    }

    public ValueTask<RateLimitDecision> Check(RateLimitRequest request)
    {
        if (_invalidSubject is not null)
        {
            return ValueTask.FromResult(RateLimitDecision.Rejected(RateLimitProblemKind.InvalidRequest, _invalidSubject));
        }

        if (RateLimitRules.CheckPolicies(request.Policies.IsDefault ? null : request.Policies) is { } invalid)
        {
            return ValueTask.FromResult(RateLimitDecision.Rejected(RateLimitProblemKind.InvalidRequest, invalid));
        }

        return policies.TryResolve(request.Policies, out var resolved, out _)
            ? ValueTask.FromResult(Decide(resolved, request.Cost))
            : ResolveThenDecideAsync(request);
    }

    /// <summary>A policy this silo has not seen yet (created a moment ago): ask the registry once, then decide.</summary>
    private async ValueTask<RateLimitDecision> ResolveThenDecideAsync(RateLimitRequest request)
    {
        await policies.RefreshAsync();
        return policies.TryResolve(request.Policies, out var resolved, out var missing)
            ? Decide(resolved, request.Cost)
            : RateLimitDecision.Rejected(RateLimitProblemKind.UnknownPolicy, new FieldError("policies", $"no policy named '{missing}'"));
    }

    public ValueTask<RateLimitDecision> CheckWith(ImmutableArray<RateLimitPolicy> policies, long cost)
    {
        if (_invalidSubject is not null)
        {
            return ValueTask.FromResult(RateLimitDecision.Rejected(RateLimitProblemKind.InvalidRequest, _invalidSubject));
        }

        if (policies.IsDefaultOrEmpty || policies.Length > RateLimitRules.MaxPoliciesPerCheck)
        {
            return ValueTask.FromResult(RateLimitDecision.Rejected(RateLimitProblemKind.InvalidRequest,
                new FieldError("policies", $"give 1 to {RateLimitRules.MaxPoliciesPerCheck} policies")));
        }

        var now = UnixTicks.Now(time);
        var decision = _buckets.Check(policies, cost, now) with { DecidedAt = now };
        metrics.Record(decision);
        return ValueTask.FromResult(decision);
    }

    public ValueTask Refund(RateLimitDecision decision)
    {
        _buckets.Refund(decision, UnixTicks.Now(time));
        return ValueTask.CompletedTask;
    }

    private RateLimitDecision Decide(IReadOnlyList<RateLimitPolicy> resolved, long? cost)
    {
        var decision = _buckets.Check(resolved, cost, UnixTicks.Now(time));
        metrics.Record(decision);
        return decision;
    }
}
