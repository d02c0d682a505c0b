using Reliability.Infrastructure;

namespace Reliability.RateLimiting;

/// <summary>Grain keys of subjects: <c>s:</c> and the subject, made safe for the ADO.NET storage (see <see cref="StorageKeys"/>).</summary>
public static class RateLimiterKeys
{
    private const string Prefix = "s:";

    public static string Of(string subject) => StorageKeys.Of(Prefix, subject);

    public static string SubjectOf(string grainKey) => grainKey.StartsWith(Prefix, StringComparison.Ordinal) ? StorageKeys.IdOf(Prefix, grainKey) : grainKey;

    /// <summary>The limiter holding the buckets of <paramref name="subject"/>.</summary>
    public static IRateLimiterGrain GetRateLimiter(this IGrainFactory grains, string subject) => grains.GetGrain<IRateLimiterGrain>(Of(subject));
}
