namespace Reliability.Client.Bench;

/// <summary>Percentiles of a sample, nearest-rank.</summary>
public static class Stats
{
    public static double Percentile(IReadOnlyList<double> sorted, double p)
    {
        if (sorted.Count == 0)
        {
            return double.NaN;
        }

        var rank = (int)Math.Ceiling(p / 100.0 * sorted.Count);
        return sorted[Math.Clamp(rank - 1, 0, sorted.Count - 1)];
    }

    public static string Summary(IEnumerable<double> values, string unit = "ms")
    {
        var sorted = values.Order().ToList();
        return sorted.Count == 0
            ? "-"
            : $"median {Percentile(sorted, 50):0} {unit} (min {sorted[0]:0}, max {sorted[^1]:0}, n={sorted.Count})";
    }
}
