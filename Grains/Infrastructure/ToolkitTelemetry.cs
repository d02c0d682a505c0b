using System.Diagnostics;
using Reliability.RateLimiting;

namespace Reliability.Infrastructure;

/// <summary>
/// The meter and the ActivitySource of each capability, by name: the silo's OpenTelemetry listens to these
/// (see docs/observability.md). Tags stay low-cardinality: a policy, workflow, step or projection name,
/// never a subject, key or saga id.
/// </summary>
public static class ToolkitTelemetry
{
    public const string RateLimiting = RateLimitTelemetry.MeterName;
    public const string Idempotency = "Reliability.Idempotency";
    public const string Sagas = "Reliability.Sagas";
    public const string Projections = "Reliability.Projections";

    /// <summary>Every capability's meter; each also names an ActivitySource of the same name.</summary>
    public static readonly string[] Names = [RateLimiting, Idempotency, Sagas, Projections];

    public static readonly ActivitySource IdempotencySource = new(Idempotency);
    public static readonly ActivitySource SagaSource = new(Sagas);
    public static readonly ActivitySource ProjectionSource = new(Projections);
    public static readonly ActivitySource RateLimitSource = new(RateLimiting);

    public static KeyValuePair<string, object?> Tag(string name, object? value) => new(name, value);
}
