namespace Reliability.RateLimiting.Algorithms;

/// <summary>Bounds shared by every algorithm's options.</summary>
public static class AlgorithmLimits
{
    public static readonly TimeSpan MinimumPeriod = TimeSpan.FromMilliseconds(1);
    public static readonly TimeSpan MaximumPeriod = TimeSpan.FromDays(366);

    public static void RequirePeriod(TimeSpan period, [System.Runtime.CompilerServices.CallerArgumentExpression(nameof(period))] string? name = null)
    {
        if (period < MinimumPeriod || period > MaximumPeriod)
        {
            throw new ArgumentOutOfRangeException(name, period, $"{name} must be between 1 ms and 366 days.");
        }
    }

    /// <summary>Ceiling of a non-negative division.</summary>
    public static long CeilDiv(long numerator, long denominator) => (numerator + denominator - 1) / denominator;

    public static Int128 CeilDiv(Int128 numerator, Int128 denominator) => (numerator + denominator - 1) / denominator;
}
