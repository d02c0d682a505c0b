namespace Reliability.Client.Bench;

/// <summary>
/// Latencies in log-spaced buckets (about 1% wide), so millions of samples cost a few kilobytes and any
/// percentile is known to within 1%. Thread-safe.
/// </summary>
public sealed class LatencyHistogram
{
    private const double Resolution = 100;
    private readonly long[] _buckets = new long[(int)(Math.Log(1 + 60e6) * Resolution) + 2];
    private long _count;

    public long Count => Interlocked.Read(ref _count);

    public void Record(TimeSpan latency)
    {
        var micros = Math.Max(0, latency.Ticks / 10.0);
        var index = Math.Min(_buckets.Length - 1, (int)(Math.Log(1 + micros) * Resolution));
        Interlocked.Increment(ref _buckets[index]);
        Interlocked.Increment(ref _count);
    }

    /// <summary>The latency below which <paramref name="percent"/> of the samples fall, in milliseconds.</summary>
    public double PercentileMs(double percent)
    {
        var rank = (long)Math.Ceiling(percent / 100 * Count);
        long seen = 0;
        for (var i = 0; i < _buckets.Length; i++)
        {
            seen += Interlocked.Read(ref _buckets[i]);
            if (seen >= rank && seen > 0)
            {
                return (Math.Exp((i + 1) / Resolution) - 1) / 1000;
            }
        }

        return double.NaN;
    }
}
