namespace Reliability.RateLimiting;

/// <summary>Decisions of one policy: allowed, denied, and denials a shadow policy would have made.</summary>
[GenerateSerializer, Immutable, Alias("ratelimit.policy-counters")]
public sealed record PolicyCounters(long Allowed, long Denied, long ShadowDenied)
{
    public static PolicyCounters Zero { get; } = new(0, 0, 0);

    public PolicyCounters Add(PolicyCounters other) => new(Allowed + other.Allowed, Denied + other.Denied, ShadowDenied + other.ShadowDenied);
}
