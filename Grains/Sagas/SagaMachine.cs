using System.Collections.Immutable;

namespace Reliability.Sagas;

/// <summary>
/// The saga's transitions as a table, pure (time and randomness are passed in):
/// <code>
/// status        outcome of the step at the cursor        next
/// Running       succeeded                                 cursor + 1; Completed after the last step
/// Running       rejected (business rule)                  Compensating from cursor − 1
/// Running       failed, attempts left                     same step after backoff with jitter
/// Running       failed, no attempts left                  Compensating from cursor (its effect is unknown)
/// Running       failed, step has no compensation          same step after backoff, without limit (retriable step)
/// Compensating  succeeded                                 previous step with a compensation; Compensated below 0
/// Compensating  rejected or failed, attempts left         same compensation after backoff
/// Compensating  rejected or failed, no attempts left      Failed (parked for an operator)
/// Running       Cancel, before the pivot                  Compensating from cursor if the step was attempted
///                                                         (its effect is unknown), else from cursor − 1
/// Running       Cancel, at or past the pivot              refused: the saga must complete
/// Failed        Retry                                     Compensating at the same step, attempts reset
/// </code>
/// Compensations undo an action only if it took effect, so compensating a step whose action was
/// rejected or never arrived is harmless. Steps without a compensation come after the pivot (the last
/// step that may fail for a business reason): they must eventually succeed, so they are retried rather
/// than given up, and a saga that has reached them can no longer be cancelled.
/// <para>
/// The history keeps its first <see cref="HistoryHead"/> entries and the newest ones, up to
/// <see cref="MaxHistory"/> in all (entries that carry a consistency token are kept longest), so a step
/// retried for hours does not grow the saga's row without bound.
/// </para>
/// </summary>
public sealed class SagaMachine(SagaOptions options)
{
    public const int MaxHistory = 100;
    public const int HistoryHead = 20;

    public SagaState Start(string sagaId, SagaDefinition definition, DateTimeOffset now)
    {
        if (definition.Steps.IsDefaultOrEmpty)
        {
            throw new ArgumentException("A saga needs at least one step.", nameof(definition));
        }

        return new SagaState(sagaId, definition.Kind, definition.Steps, SagaStatus.Running, 0, 0, false, null, [], null, now, now,
            WorkflowVersion: definition.Version, Input: definition.Input);
    }

    /// <summary>The command id of a step's action or compensation: the saga, the step, and which of the two.</summary>
    public static string CommandId(string sagaId, int step, bool compensation) => compensation ? $"{sagaId}/{step}/undo" : $"{sagaId}/{step}";

    public SagaAction Next(SagaState state, DateTimeOffset now)
    {
        if (state.Status.IsTerminal())
        {
            return SagaAction.Finished;
        }

        if (state.Pending is { } pending)
        {
            var compensating = state.Status == SagaStatus.Compensating;
            if (now >= pending.Deadline)
            {
                return new SagaAction(SagaActionKind.Expire, state.Cursor, compensating, null, TimeSpan.Zero);
            }

            var until = state.NextAttemptAt is { } next && next < pending.Deadline ? next : pending.Deadline;
            return pending.PollUrl is not null && until <= now
                ? new SagaAction(SagaActionKind.Poll, state.Cursor, compensating, null, TimeSpan.Zero)
                : new SagaAction(SagaActionKind.Wait, state.Cursor, compensating, null, until - now);
        }

        if (state.NextAttemptAt is { } at && at > now)
        {
            return new SagaAction(SagaActionKind.Wait, state.Cursor, state.Status == SagaStatus.Compensating, null, at - now);
        }

        var step = state.Steps[state.Cursor];
        return state.Status == SagaStatus.Running
            ? new SagaAction(SagaActionKind.Run, state.Cursor, false, step.Action, TimeSpan.Zero)
            : new SagaAction(SagaActionKind.Run, state.Cursor, true, step.Compensation, TimeSpan.Zero);
    }

    /// <summary>"About to run": persisted before the participant is called, by <paramref name="silo"/>.</summary>
    public SagaState Begin(SagaState state, DateTimeOffset now, string silo = "")
    {
        var compensation = state.Status == SagaStatus.Compensating;
        var attempt = state.Attempt + 1;
        return state with
        {
            Attempt = attempt,
            InFlight = true,
            NextAttemptAt = null,
            Pending = null,
            History = Append(state.History, Entry(state, compensation, attempt, "started", null, now, silo)),
            UpdatedAt = now,
        };
    }

    /// <summary>The outcome of the attempt in flight. <paramref name="random"/> in [0, 1) sets the jitter of a retry.</summary>
    public SagaState Record(SagaState state, StepOutcome outcome, DateTimeOffset now, double random, string silo = "")
    {
        var compensation = state.Status == SagaStatus.Compensating;
        var step = state.Steps[state.Cursor];
        var history = Append(state.History, Entry(state, compensation, state.Attempt, Describe(outcome.Kind), outcome.Detail, now, silo) with { Token = outcome.Token, Call = outcome.Call });
        var settled = state with { History = history, InFlight = false, UpdatedAt = now };
        if (!compensation && outcome is { Kind: StepOutcomeKind.Succeeded, Response: { } response })
        {
            settled = settled with { Responses = (state.Responses ?? ImmutableDictionary<string, string>.Empty).SetItem(step.Name, response) };
        }

        var retriable = !compensation && step.Compensation is null;
        var attemptsLeft = retriable || state.Attempt < (compensation
            ? Math.Max(options.MaxCompensationAttempts, step.Policy?.MaxAttempts ?? 0)
            : step.Policy?.MaxAttempts ?? options.MaxAttempts);
        var retry = settled with { NextAttemptAt = now + Delay(step.Policy, state.Attempt, random, outcome.RetryAfter) };

        if (outcome.Kind == StepOutcomeKind.Accepted && step.Policy is { Completion: not StepCompletion.Answer } waiting)
        {
            var deadline = now + waiting.Timeout;
            return settled with
            {
                Pending = new PendingCall(outcome.PollUrl, now, deadline),
                NextAttemptAt = waiting.Completion == StepCompletion.Poll ? Min(now + waiting.PollInterval, deadline) : deadline,
            };
        }

        return (compensation, outcome.Kind) switch
        {
            (false, StepOutcomeKind.Succeeded or StepOutcomeKind.Accepted) when state.Cursor + 1 == state.Steps.Length =>
                settled with { Status = SagaStatus.Completed, Cursor = state.Steps.Length, Attempt = 0 },
            (false, StepOutcomeKind.Succeeded or StepOutcomeKind.Accepted) => settled with { Cursor = state.Cursor + 1, Attempt = 0 },
            (false, StepOutcomeKind.Rejected) when step.Policy is { UntilSuccess: true } => retry,
            (false, StepOutcomeKind.Rejected) => Compensate(settled, state.Cursor - 1, $"step {step.Name} was rejected: {outcome.Detail}"),
            (false, _) when attemptsLeft => retry,
            (false, _) => Compensate(settled, state.Cursor, $"step {step.Name} failed {state.Attempt} times: {outcome.Detail}"),
            (true, StepOutcomeKind.Succeeded or StepOutcomeKind.Accepted) => Compensate(settled, state.Cursor - 1, settled.FailureReason),
            (true, _) when attemptsLeft => retry,
            (true, _) => settled with
            {
                Status = SagaStatus.Failed,
                FailureReason = $"compensation of {state.Steps[state.Cursor].Name} failed {state.Attempt} times: {outcome.Detail}; parked for an operator",
            },
        };
    }

    /// <summary>A poll found the accepted call still running: ask again after the step's interval, never past the deadline.</summary>
    public SagaState Polled(SagaState state, DateTimeOffset now) => state.Pending is { } pending && state.Steps[state.Cursor].Policy is { } policy
        ? state with { Pending = pending with { Polls = pending.Polls + 1 }, NextAttemptAt = Min(now + policy.PollInterval, pending.Deadline), UpdatedAt = now }
        : state;

    /// <summary>The accepted call ended (its poll answered, or the participant called back): the attempt's outcome.</summary>
    public SagaState Settle(SagaState state, StepOutcome outcome, DateTimeOffset now, double random, string silo = "") =>
        Record(state with { Pending = null, CallbackTokenHash = null, NextAttemptAt = null }, outcome, now, random, silo);

    /// <summary>The accepted call did not end within the step's timeout: a failed attempt, retried (same key) by the step's policy.</summary>
    public SagaState Expire(SagaState state, DateTimeOffset now, double random, string silo = "") =>
        Settle(state, new StepOutcome(StepOutcomeKind.Failed,
            $"accepted at {state.Pending?.Since:O} but not completed within {state.Steps[state.Cursor].Policy?.Timeout.TotalSeconds:0.###} s"), now, random, silo);

    /// <summary>
    /// Stops a running saga and undoes what it did. Null if it is not running, or already past its pivot.
    /// A step attempted at all (in flight, or failed and waiting to be retried) may have taken effect, so its
    /// compensation runs too; it undoes only what did.
    /// </summary>
    public SagaState? Cancel(SagaState state, string reason, DateTimeOffset now) =>
        state.Status == SagaStatus.Running && state.Steps[state.Cursor].Compensation is not null
            ? Compensate(state with { UpdatedAt = now, NextAttemptAt = null }, state.InFlight || state.Attempt > 0 ? state.Cursor : state.Cursor - 1, $"cancelled: {reason}")
            : null;

    /// <summary>Resumes a parked saga's compensations with fresh attempts. Null if it is not parked.</summary>
    public SagaState? Retry(SagaState state, DateTimeOffset now) => state.Status == SagaStatus.Failed
        ? state with { Status = SagaStatus.Compensating, Attempt = 0, NextAttemptAt = null, UpdatedAt = now }
        : null;

    /// <summary>
    /// The wait before attempt n + 1: the step's own policy exactly when it has one (a definition's author
    /// expects the intervals they wrote), else <see cref="Backoff"/>; never shorter than the participant's
    /// Retry-After, which is honoured up to <see cref="MaxRetryAfter"/>.
    /// </summary>
    public TimeSpan Delay(StepPolicy? policy, int attempt, double random, TimeSpan? retryAfter = null)
    {
        var delay = policy is null
            ? Backoff(attempt, random)
            : TimeSpan.FromTicks((long)Math.Min(policy.MaxInterval.Ticks, policy.InitialInterval.Ticks * Math.Pow(policy.BackoffCoefficient, Math.Max(0, attempt - 1))));
        var asked = retryAfter is { } after ? (after > MaxRetryAfter ? MaxRetryAfter : after) : TimeSpan.Zero;
        return asked > delay ? asked : delay;
    }

    /// <summary>The longest Retry-After a participant is granted: it may not park a saga for longer than this per attempt.</summary>
    public static readonly TimeSpan MaxRetryAfter = TimeSpan.FromMinutes(10);

    /// <summary>Backoff before attempt n + 1: base × 2^(n−1), at most the maximum, scaled by a jitter of 50-100%.</summary>
    public TimeSpan Backoff(int attempt, double random)
    {
        var exponential = options.BackoffBase.Ticks * Math.Pow(2, Math.Max(0, attempt - 1));
        var capped = Math.Min(options.BackoffMax.Ticks, exponential);
        return TimeSpan.FromTicks((long)(capped * (0.5 + 0.5 * random)));
    }

    /// <summary>Compensating from <paramref name="from"/> down, skipping steps that have nothing to undo.</summary>
    private static SagaState Compensate(SagaState state, int from, string? reason)
    {
        var cursor = from;
        while (cursor >= 0 && state.Steps[cursor].Compensation is null)
        {
            cursor--;
        }

        return state with
        {
            Pending = null,
            CallbackTokenHash = null,
            Status = cursor < 0 ? SagaStatus.Compensated : SagaStatus.Compensating,
            Cursor = cursor,
            Attempt = 0,
            NextAttemptAt = null,
            FailureReason = reason,
        };
    }

    /// <summary>Adds an entry; past <see cref="MaxHistory"/>, drops the oldest entry after the head, one without a token if there is one.</summary>
    private static ImmutableArray<SagaHistoryEntry> Append(ImmutableArray<SagaHistoryEntry> history, SagaHistoryEntry entry)
    {
        var added = history.Add(entry);
        if (added.Length <= MaxHistory)
        {
            return added;
        }

        var drop = HistoryHead;
        for (var i = HistoryHead; i < added.Length - 1; i++)
        {
            if (added[i].Token is null)
            {
                drop = i;
                break;
            }
        }

        return added.RemoveAt(drop);
    }

    private static SagaHistoryEntry Entry(SagaState state, bool compensation, int attempt, string outcome, string? detail, DateTimeOffset now, string silo) =>
        new(state.Cursor, state.Steps[state.Cursor].Name, compensation, attempt, outcome, detail, now, silo);

    private static DateTimeOffset Min(DateTimeOffset a, DateTimeOffset b) => a < b ? a : b;

    private static string Describe(StepOutcomeKind kind) => kind switch
    {
        StepOutcomeKind.Succeeded => "succeeded",
        StepOutcomeKind.Accepted => "accepted",
        StepOutcomeKind.Rejected => "rejected",
        _ => "failed",
    };
}
