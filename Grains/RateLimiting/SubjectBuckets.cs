using System.Collections.Immutable;
using Reliability.RateLimiting.Algorithms;

namespace Reliability.RateLimiting;

/// <summary>
/// The buckets of one subject, one per policy, and the rule that decides a check across several of them:
/// every policy is evaluated first, and only if every enforced one allows does each one consume. A shadow
/// policy never denies the check; it consumes only when it would itself have allowed.
/// </summary>
public sealed class SubjectBuckets
{
    private readonly Dictionary<string, (RateLimitPolicy Policy, IRateLimitAlgorithm Bucket)> _buckets = new(StringComparer.Ordinal);

    public int Count => _buckets.Count;

    public RateLimitDecision Check(IReadOnlyList<RateLimitPolicy> policies, long? cost, long now)
    {
        if (cost < 0)
        {
            return RateLimitDecision.Rejected(RateLimitProblemKind.InvalidRequest, new FieldError("cost", $"must be 0 or more (got {cost})"));
        }

        for (var i = 0; i < policies.Count; i++)
        {
            var effective = cost ?? policies[i].DefaultCost;
            if (effective > policies[i].Limit)
            {
                return RateLimitDecision.Rejected(RateLimitProblemKind.InvalidRequest,
                    new FieldError("cost", $"{effective} exceeds the limit {policies[i].Limit} of policy '{policies[i].Name}', so it could never be allowed"));
            }
        }

        if (policies.Count == 1)
        {
            return CheckOne(policies[0], cost ?? policies[0].DefaultCost, now);
        }

        // First every policy is asked, without consuming anything...
        var buckets = new IRateLimitAlgorithm[policies.Count];
        var verdicts = new AlgorithmVerdict[policies.Count];
        var allowed = true;
        for (var i = 0; i < policies.Count; i++)
        {
            buckets[i] = BucketFor(policies[i], now);
            verdicts[i] = buckets[i].Evaluate(cost ?? policies[i].DefaultCost, now);
            allowed &= verdicts[i].Allowed || policies[i].Shadow;
        }

        // ...then, only if every enforced policy allowed, each one that allowed consumes.
        var decisions = ImmutableArray.CreateBuilder<PolicyDecision>(policies.Count);
        var decider = -1;
        for (var i = 0; i < policies.Count; i++)
        {
            var (policy, bucket, verdict, effective) = (policies[i], buckets[i], verdicts[i], cost ?? policies[i].DefaultCost);
            if (allowed && verdict.Allowed && effective > 0)
            {
                bucket.Consume(effective, now);
            }

            // A denied check consumed nothing, so an allowing policy reports what it has now, not after the request.
            var reported = !allowed && verdict.Allowed ? bucket.Evaluate(0, now) : verdict;
            var decision = new PolicyDecision(policy.Name, verdict.Allowed, policy.Shadow, bucket.Limit, reported.Remaining, bucket.Window,
                TimeSpan.FromTicks(reported.ResetAfter), TimeSpan.FromTicks(verdict.Allowed ? 0 : verdict.RetryAfter),
                TimeSpan.FromTicks(allowed ? verdict.Delay : 0));
            decisions.Add(decision);
            if (Decides(decision, decider < 0 ? null : decisions[decider], allowed))
            {
                decider = i;
            }
        }

        return new RateLimitDecision(allowed, cost ?? policies[0].DefaultCost, decider, decisions.MoveToImmutable());
    }

    /// <summary>The common case, one policy, without the bookkeeping of several.</summary>
    private RateLimitDecision CheckOne(RateLimitPolicy policy, long cost, long now)
    {
        var bucket = BucketFor(policy, now);
        var verdict = bucket.Evaluate(cost, now);
        if (verdict.Allowed && cost > 0)
        {
            bucket.Consume(cost, now);
        }

        var decision = new PolicyDecision(policy.Name, verdict.Allowed, policy.Shadow, bucket.Limit, verdict.Remaining, bucket.Window,
            TimeSpan.FromTicks(verdict.ResetAfter), TimeSpan.FromTicks(verdict.RetryAfter), TimeSpan.FromTicks(verdict.Delay));
        return new RateLimitDecision(verdict.Allowed || policy.Shadow, cost, 0, [decision]);
    }

    /// <summary>
    /// Denied: the enforced denial that lasts longest. Allowed: the enforced policy with the least left.
    /// A shadow policy decides only when every policy of the check is a shadow one.
    /// </summary>
    private static bool Decides(PolicyDecision candidate, PolicyDecision? current, bool allowed)
    {
        if (!allowed && (candidate.Allowed || candidate.Shadow))
        {
            return false;
        }

        if (current is null)
        {
            return true;
        }

        if (current.Shadow != candidate.Shadow)
        {
            return current.Shadow;
        }

        return allowed ? candidate.Remaining < current.Remaining : candidate.RetryAfter > current.RetryAfter;
    }

    /// <summary>Gives back what an allowed check consumed (see <see cref="IRateLimitAlgorithm.Refund"/>); a denied one consumed nothing.</summary>
    public void Refund(RateLimitDecision decision, long now)
    {
        if (!decision.Allowed || decision.Cost <= 0 || decision.Policies.IsDefaultOrEmpty)
        {
            return;
        }

        foreach (var policy in decision.Policies)
        {
            if (policy.Allowed && _buckets.TryGetValue(policy.Policy, out var bucket))
            {
                bucket.Bucket.Refund(decision.Cost, decision.DecidedAt, now);
            }
        }
    }

    public bool IsAtRest(long now) => _buckets.Values.All(b => b.Bucket.IsAtRest(now));

    /// <summary>The buckets that still hold something a fresh bucket would not.</summary>
    public IReadOnlyList<BucketSnapshot> Save(long now) =>
        _buckets.Values.Where(b => !b.Bucket.IsAtRest(now)).Select(b => new BucketSnapshot(b.Policy, b.Bucket.Save())).ToList();

    public void Restore(IEnumerable<BucketSnapshot> snapshots, long now)
    {
        foreach (var snapshot in snapshots)
        {
            _buckets[snapshot.Policy.Name] = (snapshot.Policy, AlgorithmFactory.Restore(snapshot.Policy, snapshot.State, now));
        }
    }

    private IRateLimitAlgorithm BucketFor(RateLimitPolicy policy, long now)
    {
        if (_buckets.TryGetValue(policy.Name, out var existing))
        {
            if (existing.Policy == policy)
            {
                return existing.Bucket;
            }

            var adapted = AlgorithmFactory.Adapt(existing.Bucket, policy, now);
            _buckets[policy.Name] = (policy, adapted);
            return adapted;
        }

        var created = AlgorithmFactory.Create(policy, now);
        _buckets[policy.Name] = (policy, created);
        return created;
    }

}
