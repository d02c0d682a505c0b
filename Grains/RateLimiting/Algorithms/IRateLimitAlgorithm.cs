namespace Reliability.RateLimiting.Algorithms;

/// <summary>
/// One bucket of one algorithm. Time is passed in, as ticks since the Unix epoch, so every decision is a
/// pure function of the calls made; no timers, refill is computed lazily from elapsed time.
/// <see cref="Evaluate"/> never consumes anything, so a caller deciding several policies together can
/// ask all of them first and <see cref="Consume"/> only when all allow.
/// </summary>
public interface IRateLimitAlgorithm
{
    long Limit { get; }

    /// <summary>The span the limit is stated over (window, or refill/leak period).</summary>
    TimeSpan Window { get; }

    AlgorithmVerdict Evaluate(long cost, long now);

    void Consume(long cost, long now);

    /// <summary>
    /// Gives back what <see cref="Consume"/> took at <paramref name="consumedAt"/>, for a check that was
    /// decided together with other subjects' and denied by one of them (all or nothing across grains).
    /// Nothing comes back that has already been replenished: a window that has rolled over since, or tokens
    /// the bucket would have refilled anyway.
    /// </summary>
    void Refund(long cost, long consumedAt, long now);

    /// <summary>True when the bucket holds nothing a fresh bucket would not: it can be dropped without changing any decision.</summary>
    bool IsAtRest(long now);

    /// <summary>The bucket's state as numbers, to survive a deactivation; the factory reads it back.</summary>
    long[] Save();

    /// <summary>Takes back a state from <see cref="Save"/> (into a bucket made for the same policy).</summary>
    void Restore(long[] state);
}
