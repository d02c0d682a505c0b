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

        foreach (var policy in policies)
        {
            var effective = cost ?? policy.DefaultCost;
            if (effective > policy.Limit)
            {
                return RateLimitDecision.Rejected(RateLimitProblemKind.InvalidRequest,
                    new FieldError("cost", $"{effective} exceeds the limit {policy.Limit} of policy '{policy.Name}', so it could never be allowed"));
            }
        }

        var verdicts = new (RateLimitPolicy Policy, IRateLimitAlgorithm Bucket, long Cost, AlgorithmVerdict Verdict)[policies.Count];
        var allowed = true;
        for (var i = 0; i < policies.Count; i++)
        {
            var policy = policies[i];
            var bucket = BucketFor(policy, now);
            var effective = cost ?? policy.DefaultCost;
            var verdict = bucket.Evaluate(effective, now);
            verdicts[i] = (policy, bucket, effective, verdict);
            allowed &= verdict.Allowed || policy.Shadow;
        }

        var decisions = new PolicyDecision[verdicts.Length];
        for (var i = 0; i < verdicts.Length; i++)
        {
            var (policy, bucket, effective, verdict) = verdicts[i];
            if (allowed && verdict.Allowed && effective > 0)
            {
                bucket.Consume(effective, now);
            }

            // A denied check consumed nothing, so an allowing policy reports what it has now, not after the request.
            var reported = !allowed && verdict.Allowed ? bucket.Evaluate(0, now) : verdict;
            decisions[i] = new PolicyDecision(policy.Name, verdict.Allowed, policy.Shadow, bucket.Limit, reported.Remaining, bucket.Window,
                TimeSpan.FromTicks(reported.ResetAfter), TimeSpan.FromTicks(verdict.Allowed ? 0 : verdict.RetryAfter),
                TimeSpan.FromTicks(allowed ? verdict.Delay : 0));
        }

        var decider = DecidingPolicy(decisions, allowed);
        return new RateLimitDecision(allowed, cost ?? policies[0].DefaultCost, decider.Policy, decider.Limit, decider.Remaining, decider.ResetAfter,
            allowed ? TimeSpan.Zero : decider.RetryAfter, decisions.Max(d => d.Delay), decisions);
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

    /// <summary>Denied: the enforced denial that lasts longest. Allowed: the enforced policy with the least left.</summary>
    private static PolicyDecision DecidingPolicy(PolicyDecision[] decisions, bool allowed)
    {
        var enforced = decisions.Where(d => !d.Shadow).ToList();
        var candidates = enforced.Count > 0 ? enforced : decisions.ToList();
        return allowed
            ? candidates.MinBy(d => d.Remaining)!
            : candidates.Where(d => !d.Allowed).MaxBy(d => d.RetryAfter)!;
    }
}
