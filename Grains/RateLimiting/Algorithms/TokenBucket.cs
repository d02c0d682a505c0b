namespace Reliability.RateLimiting.Algorithms;

/// <summary>
/// Token bucket: starts full; every whole period since the last refill adds tokens, and tokens beyond the
/// capacity are lost. A request of cost c takes c tokens or is denied.
/// </summary>
public sealed class TokenBucket : IRateLimitAlgorithm
{
    private TokenBucketOptions _options;
    private long _tokens;
    private long _periodStart;

    public TokenBucket(TokenBucketOptions options, long now)
    {
        _options = options;
        _tokens = options.Capacity;
        _periodStart = now;
    }

    public long Limit => _options.Capacity;

    public TimeSpan Window => _options.Period;

    public long Tokens(long now)
    {
        Refill(now);
        return _tokens;
    }

    public AlgorithmVerdict Evaluate(long cost, long now)
    {
        Refill(now);
        return cost <= _tokens
            ? AlgorithmVerdict.Allow(_tokens - cost, TimeUntilHolding(_options.Capacity, _tokens - cost, now))
            : AlgorithmVerdict.Deny(_tokens, TimeUntilHolding(_options.Capacity, _tokens, now), TimeUntilHolding(cost, _tokens, now));
    }

    public void Consume(long cost, long now)
    {
        Refill(now);
        _tokens -= cost;
    }

    /// <summary>New limits take effect from now; the tokens held are kept, cut to the new capacity.</summary>
    public void Refund(long cost, long consumedAt, long now)
    {
        Refill(now);
        _tokens = Math.Min(_options.Capacity, _tokens + cost);
    }

    public void Reconfigure(TokenBucketOptions options, long now)
    {
        Refill(now);
        _options = options;
        _tokens = Math.Min(_tokens, options.Capacity);
    }

    public bool IsAtRest(long now) => Tokens(now) == _options.Capacity;

    public long[] Save() => [_tokens, _periodStart];

    public void Restore(long[] state)
    {
        _tokens = Math.Min(state[0], _options.Capacity);
        _periodStart = state[1];
    }

    private void Refill(long now)
    {
        var period = _options.Period.Ticks;
        if (now - _periodStart < period)
        {
            return;
        }

        var periods = (now - _periodStart) / period;
        var missing = _options.Capacity - _tokens;
        // Compare in periods, not tokens, so that a long idle time cannot overflow periods × rate.
        _tokens = periods >= AlgorithmLimits.CeilDiv(missing, _options.TokensPerPeriod)
            ? _options.Capacity
            : _tokens + periods * _options.TokensPerPeriod;
        _periodStart += periods * period;
    }

    /// <summary>Ticks until the bucket holds at least <paramref name="wanted"/> tokens, starting from <paramref name="have"/>.</summary>
    private long TimeUntilHolding(long wanted, long have, long now)
    {
        if (have >= wanted)
        {
            return 0;
        }

        var periods = AlgorithmLimits.CeilDiv(wanted - have, _options.TokensPerPeriod);
        return _periodStart + periods * _options.Period.Ticks - now;
    }
}
