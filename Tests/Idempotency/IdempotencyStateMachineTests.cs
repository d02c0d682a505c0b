using System.Collections.Immutable;
using Microsoft.Extensions.Time.Testing;
using Reliability.Idempotency;

namespace Reliability.Tests.Idempotency;

public sealed class IdempotencyStateMachineTests
{
    private static readonly IdempotencyOptions Options = new() { Lease = TimeSpan.FromSeconds(30), Retention = TimeSpan.FromHours(24) };
    private static readonly StoredResponse Created = new(201, "application/json", [.. "{\"id\":1}"u8], ImmutableDictionary<string, string>.Empty.Add("Location", "/x/1"));

    private readonly IdempotencyStateMachine _machine = new(Options);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    private DateTimeOffset Now => _clock.GetUtcNow();

    private IdempotencyRecord Claimed(string fingerprint, out Guid lease)
    {
        lease = Guid.NewGuid();
        return _machine.Begin(null, fingerprint, Now, lease).Next!;
    }

    [Fact]
    public void Begin_OnAFreeKey_ClaimsItWithALease()
    {
        var lease = Guid.NewGuid();

        var transition = _machine.Begin(null, "fp", Now, lease);

        Assert.True(transition.Changed);
        Assert.Equal(IdempotencyOutcomeKind.Started, transition.Outcome.Kind);
        Assert.Equal(lease, transition.Outcome.LeaseId);
        Assert.Equal(IdempotencyStatus.InProgress, transition.Next!.Status);
        Assert.Equal(Now + Options.Lease, transition.Next.LeaseExpiresAt);
        Assert.False(transition.Outcome.TookOverExpiredLease);
    }

    [Fact]
    public void Begin_WhileInProgress_SameRequest_AnswersInProgressAndChangesNothing()
    {
        var held = Claimed("fp", out _);
        _clock.Advance(TimeSpan.FromSeconds(10));

        var transition = _machine.Begin(held, "fp", Now, Guid.NewGuid());

        Assert.False(transition.Changed);
        Assert.Same(held, transition.Next);
        Assert.Equal(IdempotencyOutcomeKind.InProgress, transition.Outcome.Kind);
        Assert.Equal(TimeSpan.FromSeconds(1), transition.Outcome.RetryAfter);
    }

    [Fact]
    public void Begin_WithAnotherFingerprint_WhileInProgressOrCompleted_IsAMismatch()
    {
        var held = Claimed("fp", out var lease);
        var done = _machine.Complete(held, lease, Created, Now).Next;

        Assert.Equal(IdempotencyOutcomeKind.Mismatch, _machine.Begin(held, "other", Now, Guid.NewGuid()).Outcome.Kind);
        Assert.Equal(IdempotencyOutcomeKind.Mismatch, _machine.Begin(done, "other", Now, Guid.NewGuid()).Outcome.Kind);
    }

    [Fact]
    public void Complete_WithTheLease_StoresTheResponse_WhichEveryRetryReplays()
    {
        var held = Claimed("fp", out var lease);
        _clock.Advance(TimeSpan.FromSeconds(2));

        var completed = _machine.Complete(held, lease, Created, Now);
        var replay = _machine.Begin(completed.Next, "fp", Now + TimeSpan.FromHours(1), Guid.NewGuid());

        Assert.Equal(IdempotencyOutcomeKind.Accepted, completed.Outcome.Kind);
        Assert.Equal(IdempotencyStatus.Completed, completed.Next!.Status);
        Assert.Equal(Now + Options.Retention, completed.Next.ExpiresAt);
        Assert.Equal(IdempotencyOutcomeKind.Completed, replay.Outcome.Kind);
        Assert.Same(Created, replay.Outcome.Response);
        Assert.False(replay.Changed);
    }

    [Fact]
    public void Complete_Twice_WithTheSameLease_IsAcceptedOnceAndThenANoOp()
    {
        var held = Claimed("fp", out var lease);
        var completed = _machine.Complete(held, lease, Created, Now).Next;

        var again = _machine.Complete(completed, lease, Created with { StatusCode = 500 }, Now);

        Assert.Equal(IdempotencyOutcomeKind.Accepted, again.Outcome.Kind);
        Assert.False(again.Changed);
        Assert.Equal(201, again.Next!.Response!.StatusCode);
    }

    [Fact]
    public void CompleteOrAbandon_WithAStaleLease_AreRefusedAndChangeNothing()
    {
        var held = Claimed("fp", out _);

        var complete = _machine.Complete(held, Guid.NewGuid(), Created, Now);
        var abandon = _machine.Abandon(held, Guid.NewGuid(), Now);
        var onFree = _machine.Complete(null, Guid.NewGuid(), Created, Now);

        Assert.Equal(IdempotencyOutcomeKind.StaleLease, complete.Outcome.Kind);
        Assert.Equal(IdempotencyOutcomeKind.StaleLease, abandon.Outcome.Kind);
        Assert.Equal(IdempotencyOutcomeKind.StaleLease, onFree.Outcome.Kind);
        Assert.False(complete.Changed || abandon.Changed || onFree.Changed);
    }

    [Fact]
    public void Abandon_WithTheLease_FreesTheKey_SoTheNextBeginStartsAgain()
    {
        var held = Claimed("fp", out var lease);

        var abandoned = _machine.Abandon(held, lease, Now);
        var retry = _machine.Begin(abandoned.Next, "another body is fine now", Now, Guid.NewGuid());

        Assert.Equal(IdempotencyStatus.Released, abandoned.Next!.Status);
        Assert.True(abandoned.Changed);
        Assert.Equal(IdempotencyOutcomeKind.Started, retry.Outcome.Kind);
        Assert.NotEqual(held.ClaimId, retry.Outcome.OperationId);
    }

    [Fact]
    public void Abandon_ThenTheSameRequestAgain_RunsTheSameOperation()
    {
        // A first attempt whose outcome was unknown (an exception) may have had its effect: its retry must dedupe against it.
        var held = Claimed("fp", out var lease);

        var retry = _machine.Begin(_machine.Abandon(held, lease, Now).Next, "fp", Now, Guid.NewGuid());

        Assert.Equal(IdempotencyOutcomeKind.Started, retry.Outcome.Kind);
        Assert.Equal(held.ClaimId, retry.Outcome.OperationId);
    }

    [Fact]
    public void ExpiredLease_IsTakenOverByTheNextBegin_AndTheOldHoldersCompleteIsRefused()
    {
        var held = Claimed("fp", out var oldLease);
        _clock.Advance(Options.Lease - TimeSpan.FromTicks(1));
        Assert.Equal(IdempotencyOutcomeKind.InProgress, _machine.Begin(held, "fp", Now, Guid.NewGuid()).Outcome.Kind);

        _clock.Advance(TimeSpan.FromTicks(1));
        var newLease = Guid.NewGuid();
        var takeover = _machine.Begin(held, "fp", Now, newLease);
        var oldComplete = _machine.Complete(takeover.Next, oldLease, Created, Now);
        var newComplete = _machine.Complete(takeover.Next, newLease, Created, Now);

        Assert.Equal(IdempotencyOutcomeKind.Started, takeover.Outcome.Kind);
        Assert.True(takeover.Outcome.TookOverExpiredLease);
        Assert.Equal(newLease, takeover.Next!.LeaseId);
        Assert.Equal(IdempotencyOutcomeKind.StaleLease, oldComplete.Outcome.Kind);
        Assert.Equal(IdempotencyOutcomeKind.Accepted, newComplete.Outcome.Kind);
    }

    [Fact]
    public void ExpiredLease_NotYetTakenOver_StillAcceptsItsHoldersComplete()
    {
        var held = Claimed("fp", out var lease);
        _clock.Advance(Options.Lease + TimeSpan.FromMinutes(5));

        Assert.Equal(IdempotencyOutcomeKind.Accepted, _machine.Complete(held, lease, Created, Now).Outcome.Kind);
    }

    [Fact]
    public void CompletedRecord_AfterItsRetention_IsGone_AndTheKeyIsFreeAgain()
    {
        var held = Claimed("fp", out var lease);
        var completed = _machine.Complete(held, lease, Created, Now).Next;
        _clock.Advance(Options.Retention - TimeSpan.FromTicks(1));
        Assert.NotNull(IdempotencyStateMachine.Live(completed, Now));

        _clock.Advance(TimeSpan.FromTicks(1));
        var fresh = _machine.Begin(completed, "a different request", Now, Guid.NewGuid());

        Assert.Null(IdempotencyStateMachine.Live(completed, Now));
        Assert.Equal(IdempotencyOutcomeKind.Started, fresh.Outcome.Kind);
    }

    [Theory]
    [InlineData(null)]
    [InlineData("")]
    [InlineData("naïve")]
    [InlineData("tab\tinside")]
    public void Key_ThatIsMissingOrNotPrintableAscii_IsRejected(string? key) => Assert.NotNull(IdempotencyKeys.Check(key));

    [Fact]
    public void Key_Of255PrintableCharacters_IsAccepted_And256IsNot()
    {
        Assert.Null(IdempotencyKeys.Check(new string('k', 255)));
        Assert.Null(IdempotencyKeys.Check(" !\"#$%&'()*+,-./09:;<=>?@AZ[\\]^_`az{|}~"));
        Assert.NotNull(IdempotencyKeys.Check(new string('k', 256)));
    }

    [Fact]
    public void ExpiredLease_TakenOverWithAnotherFingerprint_IsAMismatch_AndKeepsTheClaim()
    {
        var held = Claimed("request A", out _);
        _clock.Advance(Options.Lease + TimeSpan.FromSeconds(1));

        var transition = _machine.Begin(held, "request B", Now, Guid.NewGuid());

        Assert.Equal(IdempotencyOutcomeKind.Mismatch, transition.Outcome.Kind);
        Assert.False(transition.Changed);
    }

    [Fact]
    public void OperationId_IsKeptByATakeover_ButIsNewForAClaimAfterRetention()
    {
        var first = _machine.Begin(null, "fp", Now, Guid.NewGuid());
        _clock.Advance(Options.Lease + TimeSpan.FromSeconds(1));
        var takeover = _machine.Begin(first.Next, "fp", Now, Guid.NewGuid());
        var done = _machine.Complete(takeover.Next, takeover.Outcome.LeaseId, Created, Now).Next;
        _clock.Advance(Options.Retention + TimeSpan.FromSeconds(1));
        var reused = _machine.Begin(done, "fp", Now, Guid.NewGuid());

        Assert.False(string.IsNullOrEmpty(first.Outcome.OperationId));
        Assert.Equal(first.Outcome.OperationId, takeover.Outcome.OperationId);
        Assert.Equal(IdempotencyOutcomeKind.Started, reused.Outcome.Kind);
        Assert.NotEqual(first.Outcome.OperationId, reused.Outcome.OperationId);
    }

    [Fact]
    public void LiveLease_OfAHolderDeclaredDead_IsTakenOverAtOnce_ByTheSameRequestOnly()
    {
        var held = _machine.Begin(null, "fp", Now, Guid.NewGuid(), holder: "silo-a").Next!;
        _clock.Advance(TimeSpan.FromSeconds(2));

        var alive = _machine.Begin(held, "fp", Now, Guid.NewGuid(), holder: "silo-b");
        var takeover = _machine.Begin(held, "fp", Now, Guid.NewGuid(), holder: "silo-b", holderGone: true);
        var other = _machine.Begin(held, "another request", Now, Guid.NewGuid(), holder: "silo-b", holderGone: true);

        Assert.Equal(IdempotencyOutcomeKind.InProgress, alive.Outcome.Kind);
        Assert.Equal(IdempotencyOutcomeKind.Started, takeover.Outcome.Kind);
        Assert.True(takeover.Outcome.TookOverExpiredLease);
        Assert.Equal(held.ClaimId, takeover.Outcome.OperationId);
        Assert.Equal("silo-b", takeover.Next!.Holder);
        Assert.Equal(IdempotencyOutcomeKind.Mismatch, other.Outcome.Kind);
    }

    [Fact]
    public void ClaimId_GivesNothingOfTheLeaseToken_AwayWhenShown()
    {
        var lease = Guid.NewGuid();

        var claim = _machine.Begin(null, "fp", Now, lease).Outcome;

        Assert.DoesNotContain(claim.OperationId!, lease.ToString("N"), StringComparison.Ordinal);
    }
}
