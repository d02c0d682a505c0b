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

        foreach (var (name, value) in Fields(decision.Policies, decision.Allowed ? null : decision.RetryAfter))
        {
            response.Headers[name] = value;
        }
    }

    /// <summary>The fields for these policies' decisions, and Retry-After when <paramref name="retryAfter"/> is given (a denial).</summary>
    public static IEnumerable<(string Name, string Value)> Fields(IReadOnlyCollection<PolicyDecision> policies, TimeSpan? retryAfter)
    {
        if (policies.Count == 0)
        {
            yield break;
        }

        yield return ("RateLimit-Policy", string.Join(", ", policies.Select(p => $"\"{p.Policy}\";q={p.Limit};w={Seconds(p.Window)}")));
        yield return ("RateLimit", string.Join(", ", policies.Select(p => $"\"{p.Policy}\";r={p.Remaining};t={Seconds(p.ResetAfter)}")));
        if (retryAfter is { } wait)
        {
            yield return ("Retry-After", Math.Max(1, Seconds(wait)).ToString(CultureInfo.InvariantCulture));
        }
    }

    private static long Seconds(TimeSpan span) => (long)Math.Ceiling(span.TotalSeconds);
}
