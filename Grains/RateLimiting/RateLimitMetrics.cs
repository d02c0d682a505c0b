using System.Collections.Concurrent;
using System.Diagnostics.Metrics;

namespace Reliability.RateLimiting;

/// <summary>
/// Decisions per policy, as the <c>reliability.ratelimit.decisions</c> counter of meter
/// <see cref="MeterName"/> (tags: policy, outcome = allowed | denied | shadow_denied), and as running
/// totals that <see cref="RateLimitStatsPublisher"/> reports for the client.
/// </summary>
public sealed class RateLimitMetrics
{
    public const string MeterName = "Reliability.RateLimiting";

    private readonly Counter<long> _decisions;
    private readonly ConcurrentDictionary<string, Totals> _totals = new(StringComparer.Ordinal);

    public RateLimitMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(MeterName);
        _decisions = meter.CreateCounter<long>("reliability.ratelimit.decisions", unit: "{decision}", description: "Rate-limit decisions per policy and outcome.");
    }

    public void Record(RateLimitDecision decision)
    {
        foreach (var policy in decision.Policies)
        {
            var totals = _totals.GetOrAdd(policy.Policy, static _ => new Totals());
            var outcome = policy.Allowed ? "allowed" : policy.Shadow ? "shadow_denied" : "denied";
            switch (outcome)
            {
                case "allowed":
                    Interlocked.Increment(ref totals.Allowed);
                    break;
                case "denied":
                    Interlocked.Increment(ref totals.Denied);
                    break;
                default:
                    Interlocked.Increment(ref totals.ShadowDenied);
                    break;
            }

            if (_decisions.Enabled)
            {
                _decisions.Add(1, new KeyValuePair<string, object?>("policy", policy.Policy), new KeyValuePair<string, object?>("outcome", outcome));
            }
        }
    }

    public IReadOnlyDictionary<string, PolicyCounters> Snapshot() =>
        _totals.ToDictionary(p => p.Key, p => new PolicyCounters(Volatile.Read(ref p.Value.Allowed), Volatile.Read(ref p.Value.Denied), Volatile.Read(ref p.Value.ShadowDenied)));

    private sealed class Totals
    {
        public long Allowed;
        public long Denied;
        public long ShadowDenied;
    }
}
