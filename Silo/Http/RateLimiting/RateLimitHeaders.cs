using System.Globalization;
using Reliability.RateLimiting;

namespace Reliability.Silo.Http.RateLimiting;

/// <summary>
/// The IETF draft fields (draft-ietf-httpapi-ratelimit-headers): <c>RateLimit-Policy: "name";q=quota;w=window-seconds</c>
/// and <c>RateLimit: "name";r=remaining;t=seconds-until-reset</c>, one member per policy, plus
/// <c>Retry-After</c> in whole seconds on a denial.
/// </summary>
public static class RateLimitHeaders
{
    public static void Write(HttpResponse response, RateLimitDecision decision)
    {
        if (decision.Policies.IsDefaultOrEmpty)
        {
            return;
        }

        response.Headers["RateLimit-Policy"] = string.Join(", ", decision.Policies.Select(p =>
            $"\"{p.Policy}\";q={p.Limit};w={Seconds(p.Window)}"));
        response.Headers["RateLimit"] = string.Join(", ", decision.Policies.Select(p =>
            $"\"{p.Policy}\";r={p.Remaining};t={Seconds(p.ResetAfter)}"));
        if (!decision.Allowed)
        {
            response.Headers.RetryAfter = Math.Max(1, Seconds(decision.RetryAfter)).ToString(CultureInfo.InvariantCulture);
        }
    }

    private static long Seconds(TimeSpan span) => (long)Math.Ceiling(span.TotalSeconds);
}
