using System.Collections.Immutable;

namespace Reliability.Sagas;

/// <summary>
/// Everything a saga is, persisted at every transition. <see cref="Cursor"/> is the step to run next:
/// forward while Running, backward while Compensating. <see cref="InFlight"/> says an attempt was
/// persisted as started and its outcome is not known yet: after a crash, the same command is sent again
/// with the same command id, and the participant answers its first outcome. <see cref="TraceParent"/> is
/// the W3C trace context of the request that started it (null if none was traced): every step's span is
/// its child, on whichever silo and after whatever crash the step runs. A registered workflow's saga also
/// keeps its <see cref="WorkflowVersion"/>, its <see cref="Input"/> and the answer of each step that has
/// succeeded (<see cref="Responses"/>, by step name: <c>{"status":…,"body":…}</c>), which later templates read.
/// </summary>
public sealed record SagaState(
    string SagaId,
    string Kind,
    ImmutableArray<SagaStep> Steps,
    SagaStatus Status,
    int Cursor,
    int Attempt,
    bool InFlight,
    DateTimeOffset? NextAttemptAt,
    ImmutableArray<SagaHistoryEntry> History,
    string? FailureReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    string? TraceParent = null,
    int? WorkflowVersion = null,
    string? Input = null,
    ImmutableDictionary<string, string>? Responses = null,
    PendingCall? Pending = null,
    string? CallbackTokenHash = null)
{
    public SagaView ToView() => new(SagaId, Kind, Status, Cursor, Steps, History, FailureReason, CreatedAt, UpdatedAt, WorkflowVersion);

    public SagaSummary ToSummary() => new(SagaId, Kind, Status, Cursor, CreatedAt, UpdatedAt);
}

/// <summary>
/// A call a participant accepted (202) and has not finished: polled at <see cref="PollUrl"/>, or waited on for its
/// callback, until <see cref="Deadline"/> (the step's timeout after the first acceptance).
/// </summary>
public sealed record PendingCall(string? PollUrl, DateTimeOffset Since, DateTimeOffset Deadline, int Polls = 0);

public enum StepOutcomeKind
{
    Succeeded,

    /// <summary>A business rule said no: not worth retrying.</summary>
    Rejected,

    /// <summary>The call failed or timed out: the outcome is unknown and the step may be retried.</summary>
    Failed,

    /// <summary>The participant accepted the call (202) and finishes it later: polled, or called back.</summary>
    Accepted,
}

/// <summary>
/// How a step went; <see cref="Token"/> names the participant's event (store:position) when it wrote one.
/// An HTTP participant's answer adds what was called (<see cref="Call"/>), the answer kept for later templates
/// (<see cref="Response"/>, JSON) and how long it asked to be left alone (<see cref="RetryAfter"/>).
/// </summary>
public sealed record StepOutcome(StepOutcomeKind Kind, string? Detail = null, string? Token = null, CallRecord? Call = null, string? Response = null, TimeSpan? RetryAfter = null, string? PollUrl = null)
{
    public static StepOutcome Succeeded { get; } = new(StepOutcomeKind.Succeeded);
}

public enum SagaActionKind
{
    Run,
    Wait,
    Finished,

    /// <summary>Ask the accepted call's Location how it went.</summary>
    Poll,

    /// <summary>An accepted call ran out of its step's time: it counts as a failed attempt.</summary>
    Expire,
}

/// <summary>What the driver should do next: run a command (with its id), wait, or nothing (terminal).</summary>
public readonly record struct SagaAction(SagaActionKind Kind, int Step, bool Compensation, SagaCommand? Command, TimeSpan Wait)
{
    public static SagaAction Finished => new(SagaActionKind.Finished, -1, false, null, TimeSpan.Zero);
}
