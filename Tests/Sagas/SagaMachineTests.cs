using Microsoft.Extensions.Time.Testing;
using Reliability.Sagas;
using Reliability.Sagas.Workflows;

namespace Reliability.Tests.Sagas;

public sealed class SagaMachineTests
{
    private static readonly SagaOptions Options = new()
    {
        MaxAttempts = 3,
        MaxCompensationAttempts = 2,
        BackoffBase = TimeSpan.FromMilliseconds(100),
        BackoffMax = TimeSpan.FromMilliseconds(350),
    };

    private static readonly SagaDefinition Transfer = BuiltInWorkflows.Saga(SagaDefinitions.Transfer("t1", "alice", "bob", 30m));

    private readonly SagaMachine _machine = new(Options);
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 11, 28, 12, 0, 0, TimeSpan.Zero));

    private DateTimeOffset Now => _clock.GetUtcNow();

    private SagaState Run(SagaState state, params StepOutcomeKind[] outcomes)
    {
        foreach (var outcome in outcomes)
        {
            var action = _machine.Next(state, Now);
            Assert.Equal(SagaActionKind.Run, action.Kind);
            state = _machine.Record(_machine.Begin(state, Now), new StepOutcome(outcome, outcome.ToString()), Now, random: 0.5);
            if (state.NextAttemptAt is { } at)
            {
                _clock.SetUtcNow(at);
            }
        }

        return state;
    }

    [Fact]
    public void EveryStepSucceeds_TheSagaCompletes_WithAStartedAndAnOutcomePerStep()
    {
        var state = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Succeeded, StepOutcomeKind.Succeeded);

        Assert.Equal(SagaStatus.Completed, state.Status);
        Assert.Equal(SagaAction.Finished, _machine.Next(state, Now));
        Assert.Equal(["debit:started", "debit:succeeded", "record-payment:started", "record-payment:succeeded", "credit:started", "credit:succeeded"],
            state.History.Select(h => $"{h.StepName}:{h.Outcome}"));
    }

    [Fact]
    public void StepRejected_CompensatesTheCompletedStepsInReverse_ThenIsCompensated()
    {
        var state = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Rejected);

        Assert.Equal(SagaStatus.Compensating, state.Status);
        var compensation = _machine.Next(state, Now);
        Assert.True(compensation.Compensation);
        Assert.Equal(0, compensation.Step);
        Assert.Equal("refund-debit", Assert.IsType<ServiceCall>(compensation.Command).Service);

        state = Run(state, StepOutcomeKind.Succeeded);
        Assert.Equal(SagaStatus.Compensated, state.Status);
        Assert.Contains("record-payment was rejected", state.FailureReason);
    }

    [Fact]
    public void TransientFailure_IsRetriedAfterBackoffWithJitter_AndNotBeforeIt()
    {
        var state = _machine.Start("s", Transfer, Now);
        state = _machine.Record(_machine.Begin(state, Now), new StepOutcome(StepOutcomeKind.Failed, "timeout"), Now, random: 0.0);

        Assert.Equal(SagaStatus.Running, state.Status);
        Assert.Equal(Now + TimeSpan.FromMilliseconds(50), state.NextAttemptAt);
        var early = _machine.Next(state, Now + TimeSpan.FromMilliseconds(49));
        Assert.Equal(SagaActionKind.Wait, early.Kind);
        Assert.Equal(TimeSpan.FromMilliseconds(1), early.Wait);
        Assert.Equal(SagaActionKind.Run, _machine.Next(state, Now + TimeSpan.FromMilliseconds(50)).Kind);
    }

    [Theory]
    [InlineData(1, 0.0, 50)]
    [InlineData(1, 1.0, 100)]
    [InlineData(2, 1.0, 200)]
    [InlineData(3, 1.0, 350)]
    [InlineData(9, 0.5, 262.5)]
    public void Backoff_DoublesPerAttempt_IsCapped_AndJitteredBetweenHalfAndAll(int attempt, double random, double expectedMs) =>
        Assert.Equal(expectedMs, _machine.Backoff(attempt, random).TotalMilliseconds);

    [Fact]
    public void StepFailingOnEveryAttempt_GivesUp_AndCompensatesItToo_SinceItsEffectIsUnknown()
    {
        var state = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Failed, StepOutcomeKind.Failed, StepOutcomeKind.Failed);

        Assert.Equal(SagaStatus.Compensating, state.Status);
        Assert.Equal(1, state.Cursor);
        Assert.Equal("refund-payment", Assert.IsType<ServiceCall>(_machine.Next(state, Now).Command).Service);
        Assert.Contains("failed 3 times", state.FailureReason);
    }

    [Fact]
    public void CompensationFailingOnEveryAttempt_ParksTheSaga_AndARetryFinishesIt()
    {
        var state = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Rejected, StepOutcomeKind.Failed, StepOutcomeKind.Failed);

        Assert.Equal(SagaStatus.Failed, state.Status);
        Assert.Equal(SagaAction.Finished, _machine.Next(state, Now));
        Assert.Contains("parked", state.FailureReason);

        var resumed = _machine.Retry(state, Now)!;
        Assert.Equal(SagaStatus.Compensating, resumed.Status);
        Assert.Equal(0, resumed.Attempt);
        Assert.Equal(SagaStatus.Compensated, Run(resumed, StepOutcomeKind.Succeeded).Status);
    }

    [Fact]
    public void Retry_OfASagaThatIsNotParked_IsRefused()
    {
        Assert.Null(_machine.Retry(_machine.Start("s", Transfer, Now), Now));
    }

    [Fact]
    public void Cancel_BetweenSteps_UndoesTheCompletedOnes_AndCancelAfterCompletionIsRefused()
    {
        var midway = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded);

        var cancelled = _machine.Cancel(midway, "operator", Now)!;
        var completed = Run(midway, StepOutcomeKind.Succeeded, StepOutcomeKind.Succeeded);

        Assert.Equal(SagaStatus.Compensating, cancelled.Status);
        Assert.Equal(0, cancelled.Cursor);
        Assert.Equal("cancelled: operator", cancelled.FailureReason);
        Assert.Null(_machine.Cancel(completed, "too late", Now));
    }

    [Fact]
    public void StepWithoutCompensation_FailingTransiently_IsRetriedPastTheAttemptLimit()
    {
        var atCredit = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Succeeded);

        var stillTrying = Run(atCredit, Enumerable.Repeat(StepOutcomeKind.Failed, Options.MaxAttempts * 3).ToArray());

        Assert.Equal(SagaStatus.Running, stillTrying.Status);
        Assert.Equal(2, stillTrying.Cursor);
        Assert.Equal(SagaStatus.Completed, Run(stillTrying, StepOutcomeKind.Succeeded).Status);
    }

    [Fact]
    public void Cancel_PastThePivot_IsRefused_TheSagaMustComplete()
    {
        var atCredit = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Succeeded);

        Assert.Null(_machine.Cancel(atCredit, "too late", Now));
    }

    [Fact]
    public void Cancel_WhileAStepIsInFlight_UndoesThatStepToo()
    {
        var inFlight = _machine.Begin(Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded), Now);

        var cancelled = _machine.Cancel(inFlight, "operator", Now)!;

        Assert.Equal(1, cancelled.Cursor);
    }

    [Fact]
    public void Compensation_SkipsStepsThatHaveNothingToUndo()
    {
        var steps = BuiltInWorkflows.Saga(SagaDefinitions.Transfer("t", "a", "b", 1m)).Steps;
        var definition = new SagaDefinition("test", [steps[0], steps[2] with { Name = "note" }, steps[1]]);
        var state = Run(_machine.Start("s", definition, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Succeeded, StepOutcomeKind.Rejected);

        Assert.Equal(SagaStatus.Compensating, state.Status);
        Assert.Equal(0, state.Cursor);
    }

    [Fact]
    public void CommandIds_AreStablePerSagaAndStep_AndDifferForTheUndo()
    {
        Assert.Equal("s/1", SagaMachine.CommandId("s", 1, compensation: false));
        Assert.Equal("s/1/undo", SagaMachine.CommandId("s", 1, compensation: true));
    }

    [Fact]
    public void Cancel_DuringTheBackoffAfterAFailedAttempt_CompensatesThatStepToo()
    {
        // The debit's answer was lost: it may have taken effect, and the saga waits to try it again.
        var state = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Failed);
        Assert.False(state.InFlight);

        var cancelled = _machine.Cancel(state, "stop", Now)!;

        Assert.Equal(SagaStatus.Compensating, cancelled.Status);
        Assert.Equal(0, cancelled.Cursor);
        Assert.Equal("refund-debit", Assert.IsType<ServiceCall>(_machine.Next(cancelled, Now).Command).Service);
    }

    [Fact]
    public void Cancel_BeforeTheCurrentStepWasEverAttempted_CompensatesOnlyTheStepsBefore()
    {
        var state = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded);

        var cancelled = _machine.Cancel(state, "stop", Now)!;

        Assert.Equal(0, cancelled.Cursor);
        Assert.Equal("refund-debit", Assert.IsType<ServiceCall>(_machine.Next(cancelled, Now).Command).Service);
    }

    [Fact]
    public void RetriableStep_FailingHundredsOfTimes_KeepsABoundedHistory_WithTheFirstAndLatestEntries()
    {
        var state = Run(_machine.Start("s", Transfer, Now), StepOutcomeKind.Succeeded, StepOutcomeKind.Succeeded);
        state = Run(state, Enumerable.Repeat(StepOutcomeKind.Failed, 300).ToArray());

        Assert.InRange(state.History.Length, 1, 100);
        Assert.Equal("debit:started", $"{state.History[0].StepName}:{state.History[0].Outcome}");
        Assert.Equal(300, state.History[^1].Attempt);
        Assert.Equal(SagaStatus.Running, state.Status);
    }
}
