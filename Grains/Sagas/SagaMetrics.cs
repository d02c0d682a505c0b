using System.Diagnostics;
using System.Diagnostics.Metrics;
using Reliability.Infrastructure;

namespace Reliability.Sagas;

/// <summary>
/// Meter <see cref="ToolkitTelemetry.Sagas"/>: sagas started and ended by workflow (and how they ended),
/// step attempts and their latency by workflow, step, direction and outcome, and the store's count of
/// sagas running and parked.
/// <para>
/// The two gauges are the store's, cluster-wide: every silo reports the same count (read at most every
/// <see cref="CountsMaxAge"/>, and only when someone collects), so take their max, not their sum.
/// </para>
/// </summary>
public sealed class SagaMetrics
{
    /// <summary>How old the store's counts behind the gauges may be.</summary>
    public static readonly TimeSpan CountsMaxAge = TimeSpan.FromSeconds(5);

    private static readonly SagaStatus[] GaugedStatuses = [SagaStatus.Running, SagaStatus.Compensating, SagaStatus.Failed];

    private readonly Counter<long> _started;
    private readonly Counter<long> _ended;
    private readonly Counter<long> _attempts;
    private readonly Histogram<double> _stepDuration;
    private readonly ISagaStore _store;
    private readonly TimeProvider _time;
    private IReadOnlyDictionary<SagaStatus, long> _counts = new Dictionary<SagaStatus, long>();
    private long _countedAt;
    private int _counting;

    public SagaMetrics(IMeterFactory meters, ISagaStore store, TimeProvider time)
    {
        (_store, _time) = (store, time);
        var meter = meters.Create(ToolkitTelemetry.Sagas);
        _started = meter.CreateCounter<long>("reliability.sagas.started", "{saga}", "Sagas started, by workflow.");
        _ended = meter.CreateCounter<long>("reliability.sagas.ended", "{saga}", "Sagas that reached an end, by workflow and status (completed, compensated, failed: parked for an operator).");
        _attempts = meter.CreateCounter<long>("reliability.saga.step.attempts", "{attempt}", "Step calls, by workflow, step, direction (action, compensation) and outcome (succeeded, rejected, failed).");
        _stepDuration = meter.CreateHistogram<double>("reliability.saga.step.duration", "s", "How long a step call took, by workflow, step, direction and outcome.",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10] });
        meter.CreateObservableGauge("reliability.sagas.running", () => Count(SagaStatus.Running) + Count(SagaStatus.Compensating), "{saga}",
            "Sagas running or compensating, from the store (cluster-wide: every silo reports it).");
        meter.CreateObservableGauge("reliability.sagas.parked", () => Count(SagaStatus.Failed), "{saga}",
            "Sagas parked for an operator, from the store (cluster-wide: every silo reports it).");
    }

    public void Started(string workflow) => _started.Add(1, ToolkitTelemetry.Tag("workflow", workflow));

    public void Ended(string workflow, SagaStatus status) =>
        _ended.Add(1, ToolkitTelemetry.Tag("workflow", workflow), ToolkitTelemetry.Tag("status", Name(status)));

    public void StepCalled(string workflow, string step, bool compensation, StepOutcomeKind outcome, TimeSpan elapsed)
    {
        var tags = new TagList
        {
            { "workflow", workflow },
            { "step", step },
            { "direction", compensation ? "compensation" : "action" },
            { "outcome", outcome switch { StepOutcomeKind.Succeeded => "succeeded", StepOutcomeKind.Rejected => "rejected", StepOutcomeKind.Accepted => "accepted", _ => "failed" } },
        };
        _attempts.Add(1, tags);
        _stepDuration.Record(elapsed.TotalSeconds, tags);
    }

    private static string Name(SagaStatus status) => status switch
    {
        SagaStatus.Completed => "completed",
        SagaStatus.Compensated => "compensated",
        SagaStatus.Failed => "failed",
        _ => status.ToString().ToLowerInvariant(),
    };

    /// <summary>The last count read; a read older than <see cref="CountsMaxAge"/> starts a new one in the background (a collect never waits for the database).</summary>
    private long Count(SagaStatus status)
    {
        var now = _time.GetTimestamp();
        var countedAt = Interlocked.Read(ref _countedAt);
        if ((countedAt == 0 || _time.GetElapsedTime(countedAt, now) > CountsMaxAge) && Interlocked.Exchange(ref _counting, 1) == 0)
        {
            _ = RefreshAsync();
        }

        return _counts.TryGetValue(status, out var count) ? count : 0;
    }

    private async Task RefreshAsync()
    {
        try
        {
            // Only the statuses the gauges show: the finished sagas, nearly all of the table, are not counted.
            _counts = await _store.CountsAsync(GaugedStatuses);
            Interlocked.Exchange(ref _countedAt, Math.Max(1, _time.GetTimestamp()));
        }
        catch (Exception ex) when (ex is not OutOfMemoryException)
        {
            // The store is unreachable: the gauges keep their last value, and the next collect tries again.
        }
        finally
        {
            Interlocked.Exchange(ref _counting, 0);
        }
    }
}
