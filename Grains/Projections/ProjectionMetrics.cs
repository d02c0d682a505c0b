using System.Collections.Concurrent;
using System.Diagnostics.Metrics;
using Reliability.Infrastructure;

namespace Reliability.Projections;

/// <summary>
/// Meter <see cref="ToolkitTelemetry.Projections"/>: events applied (live or rebuild), the lag from append
/// to applied, events parked, and, from each runner on the silo that hosts it, events behind and a
/// rebuild's progress. A runner lives on one silo at a time, so the gauges add up across silos.
/// </summary>
public sealed class ProjectionMetrics
{
    private readonly Counter<long> _applied;
    private readonly Histogram<double> _lag;
    private readonly Counter<long> _parked;
    private readonly ConcurrentDictionary<string, Remaining> _backlogs = new(StringComparer.Ordinal);
    private readonly ObservableGauge<long> _behind;

    public ProjectionMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(ToolkitTelemetry.Projections);
        _applied = meter.CreateCounter<long>("reliability.projection.events.applied", "{event}", "Events folded into views, by projection and generation (live, rebuild).");
        _lag = meter.CreateHistogram<double>("reliability.projection.lag", "s", "Time from an event's append to its view having applied it, by projection.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60] });
        _parked = meter.CreateCounter<long>("reliability.projection.events.parked", "{event}", "Events a view could not apply, parked for an operator, by projection.");
        _behind = meter.CreateObservableGauge("reliability.projection.events.behind", () => _backlogs.Select(b =>
            new Measurement<long>(b.Value.Behind, ToolkitTelemetry.Tag("projection", b.Key))), "{event}", "Events appended that the live views have not applied yet, by projection.");
        meter.CreateObservableGauge("reliability.projection.rebuild.progress", () => _backlogs.Where(b => b.Value.Rebuild is not null).Select(b =>
            new Measurement<double>(b.Value.Rebuild!.Value, ToolkitTelemetry.Tag("projection", b.Key))), "1", "How far a rebuild has come (0 to 1), by projection, while one runs.");
    }

    /// <summary>Whether a metrics reader listens to the backlog gauges: if not, the runners need not count (a query per source).</summary>
    public bool BacklogWanted => _behind.Enabled;

    public void Applied(string projection, bool live, long events) =>
        _applied.Add(events, ToolkitTelemetry.Tag("projection", projection), ToolkitTelemetry.Tag("generation", live ? "live" : "rebuild"));

    public void Lag(string projection, TimeSpan lag) => _lag.Record(Math.Max(0, lag.TotalSeconds), ToolkitTelemetry.Tag("projection", projection));

    public void Parked(string projection) => _parked.Add(1, ToolkitTelemetry.Tag("projection", projection));

    /// <summary>What the runner of <paramref name="projection"/> on this silo has left; <paramref name="rebuild"/> is null when none runs.</summary>
    public void Backlog(string projection, long behind, double? rebuild) => _backlogs[projection] = new Remaining(behind, rebuild);

    /// <summary>The runner left this silo: another reports it now.</summary>
    public void Forget(string projection) => _backlogs.TryRemove(projection, out _);

    private sealed record Remaining(long Behind, double? Rebuild);
}
