namespace Reliability.RateLimiting.Algorithms;

/// <summary>Bounds shared by every algorithm's options.</summary>
public static class AlgorithmLimits
{
    public static void RequirePeriod(TimeSpan period, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(period))] string? name = null)
    {
        if (period < RateLimitRules.MinimumPeriod || period > RateLimitRules.MaximumPeriod)
        {
            throw new ArgumentOutOfRangeException(name, period, $"{name} must be between 1 ms and 366 days.");
        }
    }

    /// <summary>The number of the epoch-aligned window of <paramref name="windowTicks"/> that <paramref name="now"/> falls in (floor division).</summary>
    public static long WindowIndex(long now, long windowTicks) => Math.DivRem(now, windowTicks) is var (q, r) && r < 0 ? q - 1 : q;

    /// <summary>Ceiling of a non-negative division.</summary>
    public static long CeilDiv(long numerator, long denominator) => (numerator + denominator - 1) / denominator;

    public static Int128 CeilDiv(Int128 numerator, Int128 denominator) => (numerator + denominator - 1) / denominator;
}
