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
/// numbers are those of <see cref="DecidedBy"/>: the denying policy with the longest retry-after, or,
/// when allowed, the policy with the least remaining.
/// </summary>
[GenerateSerializer, Immutable, Alias("ratelimit.decision")]
public sealed record RateLimitDecision(
    bool Allowed,
    long Cost,
    string DecidedBy,
    long Limit,
    long Remaining,
    TimeSpan ResetAfter,
    TimeSpan RetryAfter,
    TimeSpan Delay,
    IReadOnlyList<PolicyDecision> Policies,
    RateLimitProblem? Problem = null)
{
    public static RateLimitDecision Rejected(RateLimitProblemKind kind, FieldError error) =>
        new(false, 0, "", 0, 0, TimeSpan.Zero, TimeSpan.Zero, TimeSpan.Zero, [], new RateLimitProblem(kind, error));
}
