using Reliability.RateLimiting;

namespace Reliability.Silo.Http.RateLimiting;

/// <summary><c>POST /api/ratelimit/check</c>: one of <c>policy</c> or <c>policies</c>; <c>cost</c> defaults to each policy's default cost.</summary>
public sealed record CheckRequestBody(string? Subject, string[]? Policies, string? Policy, long? Cost);

/// <summary><c>PUT /api/admin/ratelimit/policies/{name}</c>. <c>period</c> is a duration such as <c>1s</c> or <c>5m</c>.</summary>
public sealed record PolicyBody(string? Algorithm, long? Limit, string? Period, long? Rate, long? DefaultCost, bool? Shadow);

public sealed record PolicyDecisionView(string Policy, bool Allowed, bool Shadow, long Limit, long Remaining, long WindowMs, long ResetAfterMs, long? RetryAfterMs, long DelayMs)
{
    public static PolicyDecisionView From(PolicyDecision d) => new(d.Policy, d.Allowed, d.Shadow, d.Limit, d.Remaining,
        Ms(d.Window), Ms(d.ResetAfter), d.Allowed ? null : Ms(d.RetryAfter), Ms(d.Delay));

    public static long Ms(TimeSpan span) => (long)Math.Ceiling(span.TotalMilliseconds);
}

public sealed record DecisionView(bool Allowed, string Subject, long Cost, string DecidedBy, long Limit, long Remaining, long ResetAfterMs, long? RetryAfterMs, long DelayMs, IReadOnlyList<PolicyDecisionView> Policies)
{
    public static DecisionView From(string subject, RateLimitDecision d) => new(d.Allowed, subject, d.Cost, d.DecidedBy, d.Limit, d.Remaining,
        PolicyDecisionView.Ms(d.ResetAfter), d.Allowed ? null : PolicyDecisionView.Ms(d.RetryAfter), PolicyDecisionView.Ms(d.Delay),
        d.Policies.Select(PolicyDecisionView.From).ToList());
}

public sealed record PolicyView(string Name, string Algorithm, long Limit, string Period, long? Rate, long DefaultCost, bool Shadow, string Description)
{
    public static PolicyView From(RateLimitPolicy p) => new(p.Name, p.Algorithm.Name(), p.Limit, Durations.Format(p.Period),
        p.Algorithm.HasRate() ? p.Rate : null, p.DefaultCost, p.Shadow, p.Describe());
}
