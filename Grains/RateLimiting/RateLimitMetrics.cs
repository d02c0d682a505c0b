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

    public RateLimitMetrics(IMeterFactory meters)
    {
        // An observable counter reads the running totals when a listener collects, so a decision costs
        // three interlocked increments at most, whoever listens (the dashboard's OpenTelemetry does).
        meters.Create(RateLimitTelemetry.MeterName).CreateObservableCounter(RateLimitTelemetry.DecisionsCounter, Observe,
            unit: "{decision}", description: "Rate-limit decisions per policy and outcome.");
    }

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
