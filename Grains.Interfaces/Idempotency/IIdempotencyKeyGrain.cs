using Orleans.Concurrency;

namespace Reliability.Idempotency;

/// <summary>
/// The state machine of one idempotency key (grain key <c>scope:key</c>). Every transition is durable in
/// PostgreSQL before the method returns; in particular a <see cref="IdempotencyOutcomeKind.Started"/> claim is.
/// </summary>
[Alias("idempotency.key")]
public interface IIdempotencyKeyGrain : IGrainWithStringKey
{
    /// <summary>
    /// Claims the key for a request with this fingerprint, or says why not. <paramref name="holder"/> is the
    /// silo that will run the request (<c>SiloAddress.ToParsableString()</c>): if the membership declares it
    /// dead while it holds the claim, the next request takes the claim over at once. <paramref name="lease"/>
    /// overrides the configured lease for this claim.
    /// </summary>
    Task<IdempotencyOutcome> Begin(string fingerprint, string? holder = null, TimeSpan? lease = null);

    /// <summary>Extends the lease of a claim still running (by <paramref name="lease"/>, or the configured lease); StaleLease if it is not held by it.</summary>
    Task<IdempotencyOutcome> Renew(Guid leaseId, TimeSpan? lease = null);

    Task<IdempotencyOutcome> Complete(Guid leaseId, StoredResponse response);

    /// <summary>Releases the key without a result: the operation failed before it had any effect.</summary>
    Task<IdempotencyOutcome> Abandon(Guid leaseId);

    /// <summary>
    /// Returns when the key's record next changes (the execution under way completed or gave up), or after
    /// <paramref name="maxWait"/> (capped at 4 s, below the grain call timeout). Lets duplicates wait for the
    /// first execution instead of polling; it touches no state, so interleaving it is safe.
    /// </summary>
    [AlwaysInterleave]
    Task WaitForChange(TimeSpan maxWait);

    /// <summary>The key's durable record, or null when the key is free.</summary>
    [AlwaysInterleave]
    Task<IdempotencyRecord?> Get();
}
