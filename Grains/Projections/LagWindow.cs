namespace Reliability.Projections;

/// <summary>Append-to-apply delays of the last <c>window</c>, for the p50/p99 a runner reports. Not thread-safe: one grain owns it.</summary>
public sealed class LagWindow(TimeSpan window, int maxSamples = 200_000)
{
    private readonly Queue<(DateTimeOffset At, double Ms)> _samples = new();

    public void Add(DateTimeOffset at, TimeSpan lag)
    {
        _samples.Enqueue((at, Math.Max(0, lag.TotalMilliseconds)));
        if (_samples.Count > maxSamples)
        {
            _samples.Dequeue();
        }
    }

    public LagSummary Summarize(DateTimeOffset now)
    {
        while (_samples.TryPeek(out var oldest) && now - oldest.At > window)
        {
            _samples.Dequeue();
        }

        var sorted = _samples.Select(s => s.Ms).Order().ToArray();
        return sorted.Length == 0
            ? new LagSummary(0, 0, 0, 0, (int)window.TotalSeconds)
            : new LagSummary(Percentile(sorted, 0.50), Percentile(sorted, 0.99), sorted[^1], sorted.Length, (int)window.TotalSeconds);
    }

    /// <summary>Nearest-rank percentile of sorted values.</summary>
    public static double Percentile(double[] sorted, double p) => sorted[Math.Clamp((int)Math.Ceiling(p * sorted.Length) - 1, 0, sorted.Length - 1)];
}
