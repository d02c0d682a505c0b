namespace Reliability.RateLimiting.Algorithms;

/// <summary><see cref="Limit"/> units per <see cref="Window"/>; the options of the three window algorithms.</summary>
public sealed record WindowOptions
{
    public WindowOptions(long limit, TimeSpan window)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(limit, 1);
        AlgorithmLimits.RequirePeriod(window);
        Limit = limit;
        Window = window;
    }

    public long Limit { get; }

    public TimeSpan Window { get; }
}
