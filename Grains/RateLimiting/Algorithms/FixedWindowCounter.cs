namespace Reliability.RateLimiting.Algorithms;

/// <summary>
/// Fixed window counter: time is cut into windows aligned to the Unix epoch, and each window admits up to
/// Limit units. Cheap and exact per window, but a burst at the end of one window and another at the start
/// of the next can admit twice the limit within one window's length.
/// </summary>
public sealed class FixedWindowCounter(WindowOptions options) : IRateLimitAlgorithm
{
    private WindowOptions _options = options;
    private long _window = long.MinValue;
    private long _count;

    public long Limit => _options.Limit;

    public TimeSpan Window => _options.Window;

    public AlgorithmVerdict Evaluate(long cost, long now)
    {
        Advance(now);
        var resetAfter = WindowEnd() - now;
        return _count + cost <= _options.Limit
            ? AlgorithmVerdict.Allow(_options.Limit - _count - cost, _count + cost == 0 ? 0 : resetAfter)
            : AlgorithmVerdict.Deny(Math.Max(0, _options.Limit - _count), resetAfter, resetAfter);
    }

    public void Consume(long cost, long now)
    {
        Advance(now);
        _count += cost;
    }

    /// <summary>The count of the current window is kept; a new window length realigns the window from now.</summary>
    public void Refund(long cost, long consumedAt, long now)
    {
        Advance(now);
        if (WindowOf(consumedAt) == _window)
        {
            _count = Math.Max(0, _count - cost);
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
        return _count == 0;
    }

    public long[] Save() => [_window, _count];

    public void Restore(long[] state) => (_window, _count) = (state[0], state[1]);

    private long WindowOf(long now) => AlgorithmLimits.WindowIndex(now, _options.Window.Ticks);

    private long WindowEnd() => (_window + 1) * _options.Window.Ticks;

    private void Advance(long now)
    {
        var window = WindowOf(now);
        if (window > _window)
        {
            _window = window;
            _count = 0;
        }
    }
}
