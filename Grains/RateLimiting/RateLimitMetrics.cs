using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Reliability.RateLimiting;

/// <summary>
/// Decisions per policy, as the <see cref="RateLimitTelemetry.DecisionsCounter"/> counter of meter
/// <see cref="RateLimitTelemetry.MeterName"/> (tags: policy, outcome = allowed | denied | shadow_denied),
/// and as running totals that <see cref="RateLimitStatsPublisher"/> reports for the client.
/// </summary>
public sealed class RateLimitMetrics
{
    private readonly ConcurrentDictionary<string, Totals> _totals = new(StringComparer.Ordinal);

    private readonly Histogram<double> _checkDuration;

    public RateLimitMetrics(IMeterFactory meters)
    {
        // An observable counter reads the running totals when a listener collects, so a decision costs
        // three interlocked increments at most, whoever listens (the dashboard's OpenTelemetry does).
        var meter = meters.Create(RateLimitTelemetry.MeterName);
        meter.CreateObservableCounter(RateLimitTelemetry.DecisionsCounter, Observe,
            unit: "{decision}", description: "Rate-limit decisions per policy and outcome.");
        _checkDuration = meter.CreateHistogram<double>(RateLimitTelemetry.CheckDuration, "s", "How long a check took to answer, by interface (http, rls).",
            advice: new InstrumentAdvice<double> { HistogramBucketBoundaries = [0.0005, 0.001, 0.0025, 0.005, 0.01, 0.015, 0.025, 0.05, 0.1, 0.25, 1] });
    }

    /// <summary>One check answered through <paramref name="api"/> (http, rls) in <paramref name="elapsed"/>.</summary>
    public void Checked(string api, TimeSpan elapsed) => _checkDuration.Record(elapsed.TotalSeconds, new KeyValuePair<string, object?>("interface", api));

    public void Record(RateLimitDecision decision)
    {
        foreach (var policy in decision.Policies)
        {
            var totals = _totals.GetOrAdd(policy.Policy, static _ => new Totals());
            if (policy.Allowed)
            {
                Interlocked.Increment(ref totals.Allowed);
            }
            else if (policy.Shadow)
            {
                Interlocked.Increment(ref totals.ShadowDenied);
            }
            else
            {
                Interlocked.Increment(ref totals.Denied);
            }
        }
    }

    private IEnumerable<Measurement<long>> Observe()
    {
        foreach (var (policy, totals) in _totals)
        {
            yield return Measure(totals.Allowed, policy, "allowed");
            yield return Measure(totals.Denied, policy, "denied");
            yield return Measure(totals.ShadowDenied, policy, "shadow_denied");
        }
    }

    private static Measurement<long> Measure(long value, string policy, string outcome) =>
        new(value, new KeyValuePair<string, object?>("policy", policy), new KeyValuePair<string, object?>("outcome", outcome));

    public IReadOnlyDictionary<string, PolicyCounters> Snapshot() =>
        _totals.ToDictionary(p => p.Key, p => new PolicyCounters(Volatile.Read(ref p.Value.Allowed), Volatile.Read(ref p.Value.Denied), Volatile.Read(ref p.Value.ShadowDenied)));

    private sealed class Totals
    {
        public long Allowed;
        public long Denied;
        public long ShadowDenied;
    }
}
