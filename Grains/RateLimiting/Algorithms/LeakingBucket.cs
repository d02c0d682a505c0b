namespace Reliability.RateLimiting.Algorithms;

/// <summary>
/// Leaking bucket as a meter with a queue: requests leave at a constant rate, one every
/// Period / RequestsPerPeriod. An admitted request is told the delay at which its turn comes (shaping);
/// when the queue would hold more than Capacity requests, it is denied.
/// <para>
/// Time is kept in scaled units (ticks × RequestsPerPeriod) in which one request occupies exactly
/// Period.Ticks units, so the spacing is exact even when the period does not divide evenly.
/// </para>
/// </summary>
public sealed class LeakingBucket : IRateLimitAlgorithm
{
    private LeakingBucketOptions _options;
    // The moment the queue is empty again, in scaled units.
    private Int128 _drainedAt;

    public LeakingBucket(LeakingBucketOptions options, long now)
    {
        _options = options;
        _drainedAt = Scaled(now);
    }

    public long Limit => _options.Capacity;

    public TimeSpan Window => _options.Period;

    private long Slot => _options.Period.Ticks;

    public AlgorithmVerdict Evaluate(long cost, long now)
    {
        var scaledNow = Scaled(now);
        var start = Int128.Max(_drainedAt, scaledNow);
        var occupiedAfter = start + (Int128)cost * Slot - scaledNow;
        if (occupiedAfter <= (Int128)_options.Capacity * Slot)
        {
            return AlgorithmVerdict.Allow(
                remaining: _options.Capacity - Requests(occupiedAfter),
                resetAfter: Ticks(occupiedAfter),
                delay: Ticks(start - scaledNow));
        }

        var occupied = Int128.Max(Int128.Zero, _drainedAt - scaledNow);
        // Wait until the queue has drained far enough for this request's cost to fit.
        var retry = _drainedAt - (Int128)(_options.Capacity - cost) * Slot - scaledNow;
        return AlgorithmVerdict.Deny(_options.Capacity - Requests(occupied), Ticks(occupied), Ticks(retry));
    }

    public void Consume(long cost, long now) => _drainedAt = Int128.Max(_drainedAt, Scaled(now)) + (Int128)cost * Slot;

    /// <summary>Takes the request out of the queue again; what has drained since stays drained.</summary>
    public void Refund(long cost, long consumedAt, long now) =>
        _drainedAt = Int128.Max(Scaled(now), _drainedAt - (Int128)cost * Slot);

    /// <summary>The requests already queued stay queued; they drain at the new rate from now on.</summary>
    public void Reconfigure(LeakingBucketOptions options, long now)
    {
        var scaledNow = Scaled(now);
        var occupied = Int128.Max(Int128.Zero, _drainedAt - scaledNow);
        var oldSlot = Slot;
        _options = options;
        _drainedAt = Scaled(now) + occupied * Slot / oldSlot;
    }

    public bool IsAtRest(long now) => _drainedAt <= Scaled(now);

    public long[] Save() => [(long)(ulong)(_drainedAt >> 64), (long)(ulong)_drainedAt];

    public void Restore(long[] state) => _drainedAt = ((Int128)state[0] << 64) | (ulong)state[1];

    private Int128 Scaled(long ticks) => (Int128)ticks * _options.RequestsPerPeriod;

    private long Ticks(Int128 scaled) => (long)AlgorithmLimits.CeilDiv(Int128.Max(Int128.Zero, scaled), _options.RequestsPerPeriod);

    private long Requests(Int128 scaled) => (long)AlgorithmLimits.CeilDiv(scaled, Slot);
}
