namespace Reliability.Idempotency;

public enum IdempotencyStatus
{
    InProgress,
    Completed,
}

/// <summary>
/// One key's state. <see cref="IdempotencyStatus.InProgress"/>: claimed by <see cref="LeaseId"/> until
/// <see cref="LeaseExpiresAt"/>. <see cref="IdempotencyStatus.Completed"/>: <see cref="Response"/> is replayed
/// until <see cref="ExpiresAt"/>. No record at all means the key is free.
/// </summary>
[GenerateSerializer, Immutable, Alias("idempotency.record")]
public sealed record IdempotencyRecord(
    IdempotencyStatus Status,
    string Fingerprint,
    Guid LeaseId,
    DateTimeOffset StartedAt,
    DateTimeOffset LeaseExpiresAt,
    StoredResponse? Response,
    DateTimeOffset? CompletedAt,
    DateTimeOffset ExpiresAt);
