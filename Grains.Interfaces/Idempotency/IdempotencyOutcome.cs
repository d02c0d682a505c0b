namespace Reliability.Idempotency;

public enum IdempotencyOutcomeKind
{
    /// <summary>The caller holds the key now (<see cref="IdempotencyOutcome.LeaseId"/>) and must run the operation.</summary>
    Started,

    /// <summary>Another execution holds the key; ask again after <see cref="IdempotencyOutcome.RetryAfter"/>.</summary>
    InProgress,

    /// <summary>The operation ran; <see cref="IdempotencyOutcome.Response"/> is what it answered.</summary>
    Completed,

    /// <summary>The key was used for a different request (another fingerprint).</summary>
    Mismatch,

    /// <summary>Complete or Abandon was accepted.</summary>
    Accepted,

    /// <summary>Complete or Abandon named a lease that no longer holds the key (it expired and was taken over).</summary>
    StaleLease,
}

/// <summary>
/// The answer of every idempotency-key operation, as a value. A <see cref="IdempotencyOutcomeKind.Started"/>
/// claim carries its <see cref="OperationId"/>: the claim's id, the same for a takeover of the same request,
/// new once the key was released or expired (see <see cref="IdempotencyKeys.OperationId"/>).
/// </summary>
[GenerateSerializer, Immutable, Alias("idempotency.outcome")]
public sealed record IdempotencyOutcome(IdempotencyOutcomeKind Kind, Guid LeaseId = default, TimeSpan RetryAfter = default, StoredResponse? Response = null, bool TookOverExpiredLease = false, string? OperationId = null, DateTimeOffset? LeaseExpiresAt = null)
{
    public static IdempotencyOutcome Accepted { get; } = new(IdempotencyOutcomeKind.Accepted);

    public static IdempotencyOutcome StaleLease { get; } = new(IdempotencyOutcomeKind.StaleLease);

    public static IdempotencyOutcome Mismatch { get; } = new(IdempotencyOutcomeKind.Mismatch);
}
