namespace Reliability.RateLimiting;

/// <summary>Names under which rate-limit decisions are exported through System.Diagnostics.Metrics.</summary>
public static class RateLimitTelemetry
{
    public const string MeterName = "Reliability.RateLimiting";

    /// <summary>Counter of decisions, tagged <c>policy</c> and <c>outcome</c> (allowed, denied, shadow_denied).</summary>
    public const string DecisionsCounter = "reliability.ratelimit.decisions";

    /// <summary>Histogram of the time a check took to answer, in seconds, tagged <c>interface</c> (http, rls).</summary>
    public const string CheckDuration = "reliability.ratelimit.check.duration";
}
