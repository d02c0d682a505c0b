using Microsoft.Extensions.Time.Testing;
using Reliability.Sagas;

namespace Reliability.Tests.Sagas.Workflows;

/// <summary>The saga machine with a workflow's per-step policies, answers and Retry-After.</summary>
public sealed class WorkflowMachineTests
{
    private static readonly StepPolicy Policy = new(3, TimeSpan.FromMilliseconds(100), 3, TimeSpan.FromMilliseconds(500), [], TimeSpan.FromSeconds(1), false);

    private static readonly HttpCall Call = new("POST", "http://127.0.0.1/x", [], null);

    private static readonly SagaDefinition Definition = new("order",
    [
        new SagaStep("reserve", Call, Call, Policy),
        new SagaStep("charge", Call, Call, Policy),
        new SagaStep("ship", Call, null, Policy with { UntilSuccess = true }),
    ], Version: 4, Input: """{"orderId":"o1"}""");

    private readonly SagaMachine _machine = new(new SagaOptions { MaxAttempts = 9, MaxCompensationAttempts = 2 });
    private readonly FakeTimeProvider _clock = new(new DateTimeOffset(2026, 12, 2, 12, 0, 0, TimeSpan.Zero));

    private SagaState Record(SagaState state, StepOutcome outcome) => _machine.Record(_machine.Begin(state, _clock.GetUtcNow()), outcome, _clock.GetUtcNow(), random: 0.5);

    [Theory]
    [InlineData(1, 100)]
    [InlineData(2, 300)]
    [InlineData(3, 500)]
    public void Delay_FollowsTheStepsPolicyExactly_WithoutJitter(int attempt, double expectedMs) =>
        Assert.Equal(expectedMs, _machine.Delay(Policy, attempt, random: 0.1).TotalMilliseconds);

    [Fact]
    public void Delay_IsNeverShorterThanRetryAfter_WhichIsCapped()
    {
        Assert.Equal(TimeSpan.FromSeconds(30), _machine.Delay(Policy, 1, 0.5, TimeSpan.FromSeconds(30)));
        Assert.Equal(SagaMachine.MaxRetryAfter, _machine.Delay(Policy, 1, 0.5, TimeSpan.FromDays(1)));
        Assert.Equal(TimeSpan.FromMilliseconds(100), _machine.Delay(Policy, 1, 0.5, TimeSpan.FromMilliseconds(5)));
    }

    [Fact]
    public void Start_KeepsTheVersionAndInput_AndASucceededStepsAnswer()
    {
        var state = _machine.Start("s1", Definition, _clock.GetUtcNow());
        state = Record(state, new StepOutcome(StepOutcomeKind.Succeeded, Response: """{"status":201,"body":{"id":"r-1"}}"""));

        Assert.Equal(4, state.WorkflowVersion);
        Assert.Equal(4, state.ToView().WorkflowVersion);
        Assert.Equal("""{"orderId":"o1"}""", state.Input);
        Assert.Equal("""{"status":201,"body":{"id":"r-1"}}""", state.Responses!["reserve"]);
        Assert.Equal(1, state.Cursor);
    }

    [Fact]
    public void ATransientFailure_UsesTheStepsAttempts_ThenCompensates()
    {
        var state = _machine.Start("s1", Definition, _clock.GetUtcNow());
        for (var attempt = 1; attempt <= 3; attempt++)
        {
            state = Record(state, new StepOutcome(StepOutcomeKind.Failed, "503"));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        // The policy's 3 attempts, not the options' 9: the unknown first step is compensated.
        Assert.Equal(SagaStatus.Compensating, state.Status);
        Assert.Equal(0, state.Cursor);
    }

    [Fact]
    public void ARetryAfter_SetsTheNextAttempt()
    {
        var state = Record(_machine.Start("s1", Definition, _clock.GetUtcNow()), new StepOutcome(StepOutcomeKind.Failed, "429", RetryAfter: TimeSpan.FromSeconds(20)));

        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(20), state.NextAttemptAt);
    }

    [Fact]
    public void AStepAfterThePivot_IsRetriedEvenWhenItIsRejected()
    {
        var state = _machine.Start("s1", Definition, _clock.GetUtcNow());
        state = Record(state, StepOutcome.Succeeded);
        state = Record(state, StepOutcome.Succeeded);
        for (var attempt = 1; attempt <= 12; attempt++)
        {
            state = Record(state, new StepOutcome(StepOutcomeKind.Rejected, "422"));
            _clock.Advance(TimeSpan.FromSeconds(1));
        }

        Assert.Equal(SagaStatus.Running, state.Status);
        Assert.Equal(2, state.Cursor);
        state = Record(state, StepOutcome.Succeeded);
        Assert.Equal(SagaStatus.Completed, state.Status);
    }

    [Fact]
    public void ACall_IsKeptInTheHistory()
    {
        var call = new CallRecord("POST", "http://127.0.0.1/x", 503, 12.5);
        var state = Record(_machine.Start("s1", Definition, _clock.GetUtcNow()), new StepOutcome(StepOutcomeKind.Failed, "503", Call: call));

        Assert.Equal(call, state.History[^1].Call);
    }

    [Fact]
    public void AnAcceptedPollStep_IsPolledAtItsInterval_AndExpiresAtItsTimeout_IntoARetry()
    {
        var poll = Definition with { Steps = [new SagaStep("reserve", Call, Call, Policy with { Completion = StepCompletion.Poll, PollInterval = TimeSpan.FromMilliseconds(250), Timeout = TimeSpan.FromSeconds(1) })] };
        var state = Record(_machine.Start("s1", poll, _clock.GetUtcNow()), new StepOutcome(StepOutcomeKind.Accepted, PollUrl: "http://127.0.0.1/status/1"));

        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromSeconds(1), state.Pending!.Deadline);
        Assert.Equal(SagaActionKind.Wait, _machine.Next(state, _clock.GetUtcNow()).Kind);
        _clock.Advance(TimeSpan.FromMilliseconds(250));
        Assert.Equal(SagaActionKind.Poll, _machine.Next(state, _clock.GetUtcNow()).Kind);
        state = _machine.Polled(state, _clock.GetUtcNow());
        Assert.Equal((1, _clock.GetUtcNow() + TimeSpan.FromMilliseconds(250)), (state.Pending!.Polls, state.NextAttemptAt));
        _clock.Advance(TimeSpan.FromSeconds(1));
        Assert.Equal(SagaActionKind.Expire, _machine.Next(state, _clock.GetUtcNow()).Kind);
        state = _machine.Expire(state, _clock.GetUtcNow(), 0.5);
        Assert.Null(state.Pending);
        Assert.Equal(SagaStatus.Running, state.Status);
        Assert.Equal("failed", state.History[^1].Outcome);
        Assert.Equal(_clock.GetUtcNow() + TimeSpan.FromMilliseconds(100), state.NextAttemptAt);
    }

    [Fact]
    public void AnAcceptedCallbackStep_WaitsForItsDeadline_AndASettledOutcomeMovesOn()
    {
        var callback = Definition with { Steps = [new SagaStep("reserve", Call, Call, Policy with { Completion = StepCompletion.Callback, Timeout = TimeSpan.FromHours(2) }), Definition.Steps[1]] };
        var state = Record(_machine.Start("s1", callback, _clock.GetUtcNow()), new StepOutcome(StepOutcomeKind.Accepted)) with { CallbackTokenHash = "H" };

        var wait = _machine.Next(state, _clock.GetUtcNow());
        Assert.Equal((SagaActionKind.Wait, TimeSpan.FromHours(2)), (wait.Kind, wait.Wait));
        state = _machine.Settle(state, new StepOutcome(StepOutcomeKind.Succeeded, Response: "{}"), _clock.GetUtcNow(), 0.5);
        Assert.Equal((1, null, null), (state.Cursor, state.Pending, state.CallbackTokenHash));
    }

    [Fact]
    public void CancellingAStepThatWaits_CompensatesIt_AndStopsWaiting()
    {
        var callback = Definition with { Steps = [new SagaStep("reserve", Call, Call, Policy with { Completion = StepCompletion.Callback }), Definition.Steps[1]] };
        var state = Record(_machine.Start("s1", callback, _clock.GetUtcNow()), new StepOutcome(StepOutcomeKind.Accepted)) with { CallbackTokenHash = "H" };

        var cancelled = _machine.Cancel(state, "operator", _clock.GetUtcNow())!;

        Assert.Equal((SagaStatus.Compensating, 0, null, null), (cancelled.Status, cancelled.Cursor, cancelled.Pending, cancelled.CallbackTokenHash));
    }
}
