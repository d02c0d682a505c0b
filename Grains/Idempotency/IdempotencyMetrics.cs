using System.Diagnostics.Metrics;
using Reliability.Infrastructure;

namespace Reliability.Idempotency;

/// <summary>
/// Meter <see cref="ToolkitTelemetry.Idempotency"/>: claims by outcome (started, replayed, in_progress,
/// mismatch, takeover), leases that ran out and were taken over, responses stored, rows swept.
/// </summary>
public sealed class IdempotencyMetrics
{
    private readonly Counter<long> _claims;
    private readonly Counter<long> _expired;
    private readonly Counter<long> _stored;
    private readonly Counter<long> _swept;

    public IdempotencyMetrics(IMeterFactory meters)
    {
        var meter = meters.Create(ToolkitTelemetry.Idempotency);
        _claims = meter.CreateCounter<long>("reliability.idempotency.claims", "{claim}", "Claims of an idempotency key, by outcome.");
        _expired = meter.CreateCounter<long>("reliability.idempotency.leases.expired", "{lease}", "Leases that ran out before their holder finished, and were taken over.");
        _stored = meter.CreateCounter<long>("reliability.idempotency.responses.stored", "{response}", "Responses stored for replay.");
        _swept = meter.CreateCounter<long>("reliability.idempotency.sweep.deleted", "{key}", "Expired keys deleted by the sweeper.");
    }

    public void Claimed(IdempotencyOutcome outcome)
    {
        var name = outcome.Kind switch
        {
            IdempotencyOutcomeKind.Started when outcome.TookOverExpiredLease => "takeover",
            IdempotencyOutcomeKind.Started => "started",
            IdempotencyOutcomeKind.Completed => "replayed",
            IdempotencyOutcomeKind.InProgress => "in_progress",
            IdempotencyOutcomeKind.Mismatch => "mismatch",
            _ => null,
        };
        if (name is null)
        {
            return;
        }

        _claims.Add(1, ToolkitTelemetry.Tag("outcome", name));
        if (outcome.TookOverExpiredLease)
        {
            _expired.Add(1);
        }
    }

    public void Stored(IdempotencyOutcome outcome)
    {
        if (outcome.Kind == IdempotencyOutcomeKind.Accepted)
        {
            _stored.Add(1);
        }
    }

    public void Swept(long keys) => _swept.Add(keys);
}
