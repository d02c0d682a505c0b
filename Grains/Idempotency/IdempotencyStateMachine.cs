using System.Security.Cryptography;

namespace Reliability.Idempotency;

/// <summary>The next record (null = the key is free) and what to answer; <see cref="Changed"/> says whether to write.</summary>
public readonly record struct IdempotencyTransition(IdempotencyRecord? Next, bool Changed, IdempotencyOutcome Outcome);

/// <summary>
/// The idempotency-key state machine as a table of transitions, pure and clock-injected:
/// <code>
/// state                    Begin(same fp)       Begin(other fp)   Complete(lease)          Abandon(lease)
/// free (or expired)        → InProgress: Started  → InProgress      StaleLease               StaleLease
/// InProgress, lease live   InProgress            Mismatch          → Completed: Accepted    → Released: Accepted
/// InProgress, lease gone   → InProgress (new lease): Started        → Completed: Accepted    → Released: Accepted
///  (or its holder dead)
///                          (same claim id)      Mismatch
/// Completed                Completed (replay)    Mismatch          Accepted if same lease   StaleLease
/// Released                 → InProgress: Started  → InProgress      StaleLease               StaleLease
///                          (same claim id)      (new claim id)
/// </code>
/// Complete and Abandon with any other lease answer StaleLease and change nothing.
/// </summary>
public sealed class IdempotencyStateMachine(IdempotencyOptions options)
{
    private static readonly TimeSpan SuggestedRetry = TimeSpan.FromSeconds(1);

    /// <summary>
    /// A request asks for the key. <paramref name="holderGone"/>: the silo holding the current claim was
    /// declared dead, so its lease is over now, whatever it said.
    /// </summary>
    public IdempotencyTransition Begin(IdempotencyRecord? current, string fingerprint, DateTimeOffset now, Guid newLease, string? holder = null, bool holderGone = false, TimeSpan? lease = null)
    {
        var leaseFor = lease ?? options.Lease;
        var live = Live(current, now);
        switch (live)
        {
            case null:
                return Claim(ClaimIdOf(newLease));
            case { Status: IdempotencyStatus.Released }:
                // The same request after a release may follow a first attempt whose effect did happen (its
                // outcome was unknown): it runs the same operation. Another request under the key is a new one.
                return Claim(live.Fingerprint == fingerprint && live.ClaimId is { } released ? released : ClaimIdOf(newLease));
            case { Status: IdempotencyStatus.InProgress } when (live.LeaseExpiresAt <= now || holderGone) && live.Fingerprint == fingerprint:
                // The same request again after its holder vanished carries on the same operation (the same claim
                // id), so the effect, keyed by it, is applied at most once whoever runs it.
                var takeover = live with { LeaseId = newLease, LeaseExpiresAt = now + leaseFor, ExpiresAt = now + options.Retention, Holder = holder };
                return new(takeover, true, new IdempotencyOutcome(IdempotencyOutcomeKind.Started, newLease, TookOverExpiredLease: true, OperationId: takeover.ClaimId, LeaseExpiresAt: takeover.LeaseExpiresAt));
            default:
                return new(current, false, Observe(live, fingerprint, now));
        }

        IdempotencyTransition Claim(string claimId)
        {
            var claim = new IdempotencyRecord(IdempotencyStatus.InProgress, fingerprint, newLease, now, now + leaseFor, null, null, now + options.Retention, claimId, holder);
            return new(claim, true, new IdempotencyOutcome(IdempotencyOutcomeKind.Started, newLease, OperationId: claimId, LeaseExpiresAt: claim.LeaseExpiresAt));
        }
    }

    /// <summary>A claim's own id: the key is free again after retention, and a new claim of it is a new operation.</summary>
    /// <remarks>Derived from the first lease by a hash, not cut from it: the claim id is shown (GET of a claim), the lease is the claim's secret token.</remarks>
    private static string ClaimIdOf(Guid lease) => Convert.ToHexString(SHA256.HashData(lease.ToByteArray()))[..16].ToLowerInvariant();

    public IdempotencyTransition Complete(IdempotencyRecord? current, Guid lease, StoredResponse response, DateTimeOffset now) => Live(current, now) switch
    {
        { Status: IdempotencyStatus.InProgress } held when held.LeaseId == lease =>
            new(held with { Status = IdempotencyStatus.Completed, Response = response, CompletedAt = now, ExpiresAt = now + options.Retention }, true, IdempotencyOutcome.Accepted),
        { Status: IdempotencyStatus.Completed } done when done.LeaseId == lease => new(current, false, IdempotencyOutcome.Accepted),
        _ => new(current, false, IdempotencyOutcome.StaleLease),
    };

    /// <summary>Extends a claim's lease (a long request still running); any other lease is stale.</summary>
    public IdempotencyTransition Renew(IdempotencyRecord? current, Guid lease, DateTimeOffset now, TimeSpan? duration = null) => Live(current, now) switch
    {
        { Status: IdempotencyStatus.InProgress } held when held.LeaseId == lease =>
            new(held with { LeaseExpiresAt = now + (duration ?? options.Lease) }, true, IdempotencyOutcome.Accepted with { LeaseExpiresAt = now + (duration ?? options.Lease) }),
        _ => new(current, false, IdempotencyOutcome.StaleLease),
    };

    public IdempotencyTransition Abandon(IdempotencyRecord? current, Guid lease, DateTimeOffset now) => Live(current, now) switch
    {
        { Status: IdempotencyStatus.InProgress } held when held.LeaseId == lease =>
            new(held with { Status = IdempotencyStatus.Released, ExpiresAt = now + options.Retention }, true, IdempotencyOutcome.Accepted),
        _ => new(current, false, IdempotencyOutcome.StaleLease),
    };

    /// <summary>
    /// What a request that does not claim would be told: replay, wait, or mismatch. A free key answers
    /// InProgress with no wait: the caller should Begin.
    /// </summary>
    public IdempotencyOutcome Observe(IdempotencyRecord? current, string fingerprint, DateTimeOffset now) => Live(current, now) switch
    {
        null or { Status: IdempotencyStatus.Released } => new IdempotencyOutcome(IdempotencyOutcomeKind.InProgress, RetryAfter: TimeSpan.Zero),
        var record when record.Fingerprint != fingerprint => IdempotencyOutcome.Mismatch,
        { Status: IdempotencyStatus.Completed } done => new IdempotencyOutcome(IdempotencyOutcomeKind.Completed, done.LeaseId, Response: done.Response),
        var held => new IdempotencyOutcome(IdempotencyOutcomeKind.InProgress, RetryAfter: Clamp(held.LeaseExpiresAt - now, SuggestedRetry)),
    };

    /// <summary>The record, unless it has outlived its retention, in which case the key is free again.</summary>
    public static IdempotencyRecord? Live(IdempotencyRecord? record, DateTimeOffset now) => record is not null && record.ExpiresAt > now ? record : null;

    private static TimeSpan Clamp(TimeSpan value, TimeSpan max) => value < TimeSpan.Zero ? TimeSpan.Zero : value > max ? max : value;
}
