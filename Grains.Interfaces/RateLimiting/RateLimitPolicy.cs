namespace Reliability.RateLimiting;

/// <summary>
/// A named limit. <see cref="Limit"/> is the bucket capacity (token bucket), the queue capacity (leaking
/// bucket) or the units per window (window algorithms); <see cref="Period"/> is the refill period, the
/// leak period or the window; <see cref="Rate"/> is the tokens added, or requests drained, per period.
/// A <see cref="Shadow"/> policy decides and counts but never denies.
/// </summary>
[GenerateSerializer, Immutable, Alias("ratelimit.policy")]
public sealed record RateLimitPolicy(
    string Name,
    RateLimitAlgorithm Algorithm,
    long Limit,
    TimeSpan Period,
    long Rate = 0,
    long DefaultCost = 1,
    bool Shadow = false)
{
    public string Describe() => Algorithm.HasRate()
        ? $"{Algorithm.Name()}: {Limit}, {Rate} per {Durations.Format(Period)}{(Shadow ? " (shadow)" : "")}"
        : $"{Algorithm.Name()}: {Limit} per {Durations.Format(Period)}{(Shadow ? " (shadow)" : "")}";
}
