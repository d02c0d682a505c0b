namespace Reliability.RateLimiting;

/// <summary>
/// Grain keys of subjects. The ADO.NET storage maps a key that parses as hexadecimal to an integer, so
/// the subjects "abc" and "ABC" would share one stored row; a non-hex prefix keeps every subject apart.
/// </summary>
public static class RateLimiterKeys
{
    private const string Prefix = "s:";

    public static string Of(string subject) => Prefix + subject;

    public static string SubjectOf(string grainKey) => grainKey.StartsWith(Prefix, StringComparison.Ordinal) ? grainKey[Prefix.Length..] : grainKey;

    /// <summary>The limiter holding the buckets of <paramref name="subject"/>.</summary>
    public static IRateLimiterGrain GetRateLimiter(this IGrainFactory grains, string subject) => grains.GetGrain<IRateLimiterGrain>(Of(subject));
}
