namespace Reliability.RateLimiting;

/// <summary>The five classic algorithms. Names on the wire and the command line: token-bucket, leaking-bucket, …</summary>
public enum RateLimitAlgorithm
{
    TokenBucket,
    LeakingBucket,
    FixedWindow,
    SlidingWindowLog,
    SlidingWindowCounter,
}

public static class RateLimitAlgorithms
{
    private static readonly Dictionary<string, RateLimitAlgorithm> ByName = new(StringComparer.OrdinalIgnoreCase)
    {
        ["token-bucket"] = RateLimitAlgorithm.TokenBucket,
        ["leaking-bucket"] = RateLimitAlgorithm.LeakingBucket,
        ["fixed-window"] = RateLimitAlgorithm.FixedWindow,
        ["sliding-window-log"] = RateLimitAlgorithm.SlidingWindowLog,
        ["sliding-window-counter"] = RateLimitAlgorithm.SlidingWindowCounter,
    };

    public static IEnumerable<string> Names => ByName.Keys;

    public static string Name(this RateLimitAlgorithm algorithm) =>
        ByName.FirstOrDefault(p => p.Value == algorithm).Key ?? algorithm.ToString();

    public static bool TryParse(string? name, out RateLimitAlgorithm algorithm) => ByName.TryGetValue(name ?? "", out algorithm);

    /// <summary>Token and leaking buckets take a rate; the window algorithms do not.</summary>
    public static bool HasRate(this RateLimitAlgorithm algorithm) => algorithm is RateLimitAlgorithm.TokenBucket or RateLimitAlgorithm.LeakingBucket;
}
