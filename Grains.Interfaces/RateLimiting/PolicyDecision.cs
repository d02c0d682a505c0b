namespace Reliability.RateLimiting;

/// <summary>One policy's verdict within a check. <see cref="RetryAfter"/> is zero when allowed; <see cref="Delay"/> is non-zero only for a leaking bucket that queued the request.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.policy-decision")]
public sealed record PolicyDecision(
    string Policy,
    bool Allowed,
    bool Shadow,
    long Limit,
    long Remaining,
    TimeSpan Window,
    TimeSpan ResetAfter,
    TimeSpan RetryAfter,
    TimeSpan Delay);
