namespace Reliability.Idempotency;

public enum IdempotencyStatus
{
    InProgress,
    Completed,

    /// <summary>Given up without a result (nothing to replay): the key is free, and the same request claiming it again runs the same operation.</summary>
    Released,
}

/// <summary>
/// One key's state. <see cref="IdempotencyStatus.InProgress"/>: claimed by <see cref="LeaseId"/> until
/// <see cref="LeaseExpiresAt"/>. <see cref="IdempotencyStatus.Completed"/>: <see cref="Response"/> is replayed
/// until <see cref="ExpiresAt"/>. No record at all means the key is free. <see cref="ClaimId"/> names the
/// claim: a takeover keeps it, a claim of the key after its retention gets a new one (null in records
/// written before it existed). <see cref="Holder"/> is the silo running the claimed request, if known: once
/// the membership declares it dead, the claim can be taken over at once rather than at lease expiry.
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
    DateTimeOffset ExpiresAt,
    string? ClaimId = null,
    string? Holder = null);
