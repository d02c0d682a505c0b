namespace Reliability.RateLimiting.Algorithms;

/// <summary>
/// Sliding window log: remembers when each admitted request happened and admits a request only if the
/// requests of the last Window, plus this one, stay within Limit. Exact. Only admitted requests are
/// logged (the textbook variant also logs denied ones, which lets a client that keeps retrying grow the
/// log without bound), so the log never holds more than Limit entries.
/// </summary>
public sealed class SlidingWindowLog(WindowOptions options) : IRateLimitAlgorithm
{
    private readonly Queue<(long At, long Cost)> _log = new();
    private WindowOptions _options = options;
    private long _sum;
    private long _newest;

    public long Limit => _options.Limit;

    public TimeSpan Window => _options.Window;

    public int Entries => _log.Count;

    public AlgorithmVerdict Evaluate(long cost, long now)
    {
        Evict(now);
        var window = _options.Window.Ticks;
        if (_sum + cost <= _options.Limit)
        {
            var newest = cost > 0 ? now : _log.Count > 0 ? _newest : now - window;
            return AlgorithmVerdict.Allow(_options.Limit - _sum - cost, newest + window - now);
        }

        // The earliest moment enough old entries have left the window for this cost to fit.
        var mustLeave = _sum + cost - _options.Limit;
        var retry = 0L;
        foreach (var (at, entryCost) in _log)
        {
            mustLeave -= entryCost;
            retry = at + window - now;
            if (mustLeave <= 0)
            {
                break;
            }
        }

        return AlgorithmVerdict.Deny(Math.Max(0, _options.Limit - _sum), _newest + window - now, retry);
    }

    public void Consume(long cost, long now)
    {
        Evict(now);
        if (cost > 0)
        {
            _log.Enqueue((now, cost));
            _sum += cost;
            _newest = now;
        }
    }

    /// <summary>The log is kept; entries are judged by the new window and limit from now on.</summary>
    /// <summary>Removes the entry the consumption added (refunds are rare: a copy of the log is fine).</summary>
    public void Refund(long cost, long consumedAt, long now)
    {
        Evict(now);
        var entries = _log.ToList();
        var index = entries.LastIndexOf((consumedAt, cost));
        if (cost <= 0 || index < 0)
        {
            return;
        }

        entries.RemoveAt(index);
        _log.Clear();
        entries.ForEach(_log.Enqueue);
        _sum -= cost;
        _newest = entries.Count > 0 ? entries[^1].At : 0;
    }

    public void Reconfigure(WindowOptions options, long now)
    {
        _options = options;
        Evict(now);
    }

    public bool IsAtRest(long now)
    {
        Evict(now);
        return _log.Count == 0;
    }

    public long[] Save() => _log.SelectMany(e => new[] { e.At, e.Cost }).ToArray();

    public void Restore(long[] state)
    {
        for (var i = 0; i + 1 < state.Length; i += 2)
        {
            _log.Enqueue((state[i], state[i + 1]));
            _sum += state[i + 1];
            _newest = state[i];
        }
    }

    private void Evict(long now)
    {
        var horizon = now - _options.Window.Ticks;
        while (_log.TryPeek(out var oldest) && oldest.At <= horizon)
        {
            _log.Dequeue();
            _sum -= oldest.Cost;
        }
    }
}
