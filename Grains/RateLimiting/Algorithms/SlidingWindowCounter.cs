namespace Reliability.RateLimiting.Algorithms;

/// <summary>
/// Sliding window counter: counts per epoch-aligned window, and estimates the requests of the last Window as
/// <c>current + previous × (1 − elapsed / window)</c>, assuming the previous window's requests were spread
/// evenly. Two counters of memory, smooth at window edges, approximate. As in the textbook, the previous
/// window's weighted share is rounded down (3 + 5 × 70% = 6.5 counts as 6), and all of it is exact integer
/// arithmetic: a request fits when <c>current + cost + ⌊previous × (window − elapsed) / window⌋ ≤ limit</c>.
/// </summary>
public sealed class SlidingWindowCounter(WindowOptions options) : IRateLimitAlgorithm
{
    private WindowOptions _options = options;
    private long _window = long.MinValue;
    private long _current;
    private long _previous;

    public long Limit => _options.Limit;

    public TimeSpan Window => _options.Window;

    /// <summary>The estimate of the last window's requests, as a fraction numerator over the window in ticks.</summary>
    public (Int128 Numerator, long Denominator) Estimate(long now)
    {
        Advance(now);
        var window = _options.Window.Ticks;
        return ((Int128)_current * window + (Int128)_previous * (window - Elapsed(now)), window);
    }

    public AlgorithmVerdict Evaluate(long cost, long now)
    {
        Advance(now);
        var window = _options.Window.Ticks;
        var elapsed = Elapsed(now);
        var previousShare = (long)((Int128)_previous * (window - elapsed) / window);
        var left = _options.Limit - _current - previousShare;
        return cost <= left
            ? AlgorithmVerdict.Allow(left - cost, ResetAfter(_current + cost, now))
            : AlgorithmVerdict.Deny(Math.Max(0, left), ResetAfter(_current, now), RetryAfter(cost, elapsed));
    }

    public void Consume(long cost, long now)
    {
        Advance(now);
        _current += cost;
    }

    /// <summary>Both counts are kept; a new window length realigns the current window from now.</summary>
    public void Refund(long cost, long consumedAt, long now)
    {
        Advance(now);
        var window = WindowOf(consumedAt);
        if (window == _window)
        {
            _current = Math.Max(0, _current - cost);
        }
        else if (window == _window - 1)
        {
            _previous = Math.Max(0, _previous - cost);
        }
    }

    public void Reconfigure(WindowOptions options, long now)
    {
        Advance(now);
        _options = options;
        _window = WindowOf(now);
    }

    public bool IsAtRest(long now)
    {
        Advance(now);
        return _current == 0 && _previous == 0;
    }

    public long[] Save() => [_window, _current, _previous];

    public void Restore(long[] state) => (_window, _current, _previous) = (state[0], state[1], state[2]);

    private long WindowOf(long now) => AlgorithmLimits.WindowIndex(now, _options.Window.Ticks);

    private long Elapsed(long now) => now - _window * _options.Window.Ticks;

    private void Advance(long now)
    {
        var window = WindowOf(now);
        if (window == _window)
        {
            return;
        }

        _previous = window == _window + 1 ? _current : 0;
        _current = 0;
        _window = window;
    }

    /// <summary>Until the estimate is back to zero: the current window's requests weigh on the next window too.</summary>
    private long ResetAfter(long current, long now)
    {
        var windowEnd = (_window + 1) * _options.Window.Ticks;
        return current > 0 ? windowEnd + _options.Window.Ticks - now
            : _previous > 0 ? windowEnd - now
            : 0;
    }

    /// <summary>The first moment the estimate plus <paramref name="cost"/> fits the limit again.</summary>
    private long RetryAfter(long cost, long elapsed)
    {
        var window = _options.Window.Ticks;
        var room = _options.Limit - _current - cost;
        if (room >= 0 && _previous > 0)
        {
            var earliest = EarliestElapsed(_previous, room, window);
            if (earliest < window)
            {
                return earliest - elapsed;
            }
        }

        // In the next window, this window's count becomes the previous one and fades out as that window passes.
        var untilNext = window - elapsed;
        return _current == 0 ? untilNext : untilNext + EarliestElapsed(_current, _options.Limit - cost, window);
    }

    /// <summary>
    /// The least elapsed time e with ⌊weight × (window − e) / window⌋ ≤ room, that is
    /// weight × (window − e) ≤ (room + 1) × window − 1, so e = window − ⌊((room + 1) × window − 1) / weight⌋.
    /// </summary>
    private static long EarliestElapsed(long weight, long room, long window) =>
        Math.Max(0, window - (long)(((Int128)(room + 1) * window - 1) / weight));
}
