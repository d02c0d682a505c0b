using System.Collections.Immutable;

namespace Reliability.RateLimiting;

public enum RateLimitProblemKind
{
    InvalidRequest,
    UnknownPolicy,
}

/// <summary>A check that could not be decided, as a value: bad input, or a policy that does not exist.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.problem")]
public sealed record RateLimitProblem(RateLimitProblemKind Kind, FieldError Error);

/// <summary>
/// The answer to a check. All policies are decided together: the check is allowed only if every enforced
/// policy allows, and then each consumes the cost; a denial consumes nothing anywhere. The top-level
/// numbers are those of the deciding policy: the denying policy with the longest retry-after, or, when
/// allowed, the policy with the least remaining. Only the per-policy numbers travel; the rest is derived.
/// <see cref="DecidedAt"/> (Unix ticks) is set by <see cref="IRateLimiterGrain.CheckWith"/>, whose
/// consumption may be refunded.
/// </summary>
[GenerateSerializer, Immutable, Alias("ratelimit.decision")]
public sealed record RateLimitDecision(bool Allowed, long Cost, int DecidingIndex, ImmutableArray<PolicyDecision> Policies, RateLimitProblem? Problem = null, long DecidedAt = 0)
{
    public PolicyDecision? Decider => Problem is null && !Policies.IsDefaultOrEmpty ? Policies[DecidingIndex] : null;

    public string DecidedBy => Decider?.Policy ?? "";

    public long Limit => Decider?.Limit ?? 0;

    public long Remaining => Decider?.Remaining ?? 0;

    public TimeSpan ResetAfter => Decider?.ResetAfter ?? TimeSpan.Zero;

    public TimeSpan RetryAfter => Allowed ? TimeSpan.Zero : Decider?.RetryAfter ?? TimeSpan.Zero;

    /// <summary>How long to wait before acting: the longest queueing delay of a leaking bucket among the policies.</summary>
    public TimeSpan Delay
    {
        get
        {
            var longest = TimeSpan.Zero;
            foreach (var policy in Policies.IsDefault ? [] : Policies)
            {
                longest = policy.Delay > longest ? policy.Delay : longest;
            }

            return longest;
        }
    }

    public static RateLimitDecision Rejected(RateLimitProblemKind kind, FieldError error) =>
        new(false, 0, 0, [], new RateLimitProblem(kind, error));
}
