using System.Collections.Immutable;
using Reliability.Projections;

namespace Reliability.Sagas;

/// <summary>
/// One step: an action on a participant and the compensation that undoes it (none for a last step that cannot
/// fail after it). <see cref="Policy"/> is the step's own retry and timeout; without one the saga options apply.
/// A step repeated for each item of an input list (<c>forEach</c>) carries its <see cref="Item"/> (JSON), which its templates read.
/// </summary>
[GenerateSerializer, Immutable, Alias("sagas.step")]
public sealed record SagaStep(string Name, SagaCommand Action, SagaCommand? Compensation, StepPolicy? Policy = null, string? Item = null);

/// <summary>
/// A step's retry policy and timeout, from its workflow definition. The delay before attempt n + 1 is
/// <see cref="InitialInterval"/> × <see cref="BackoffCoefficient"/>^(n−1), at most <see cref="MaxInterval"/>,
/// and never shorter than a participant's <c>Retry-After</c>. <see cref="UntilSuccess"/> marks a step after
/// the pivot: it is retried, whatever it answers, until it succeeds.
/// </summary>
[GenerateSerializer, Immutable, Alias("sagas.step-policy")]
public sealed record StepPolicy(
    [property: Id(0)] int MaxAttempts,
    [property: Id(1)] TimeSpan InitialInterval,
    [property: Id(2)] double BackoffCoefficient,
    [property: Id(3)] TimeSpan MaxInterval,
    [property: Id(4)] ImmutableArray<int> NonRetryableStatuses,
    [property: Id(5)] TimeSpan Timeout,
    [property: Id(6)] bool UntilSuccess,
    [property: Id(7)] StepCompletion Completion = StepCompletion.Answer,
    [property: Id(8)] TimeSpan PollInterval = default);

/// <summary>
/// How a step's call ends. <see cref="Answer"/>: with the participant's answer (a 202 counts as success).
/// <see cref="Poll"/>: a 202 gives a <c>Location</c> that is polled until it answers 2xx (not 202) or rejects.
/// <see cref="Callback"/>: a 202 means the participant will call <c>POST /api/sagas/{id}/steps/{step}/complete</c>
/// with the one-time token the request carried. For the last two the step's timeout bounds the whole wait.
/// </summary>
public enum StepCompletion
{
    Answer,
    Poll,
    Callback,
}

/// <summary>
/// What to run: a kind (a workflow's name) and its steps in order. A registered workflow also gives its
/// <see cref="Version"/> and the start request's <see cref="Input"/> (JSON), which its templates read.
/// </summary>
[GenerateSerializer, Immutable, Alias("sagas.definition")]
public sealed record SagaDefinition(string Kind, ImmutableArray<SagaStep> Steps, int? Version = null, string? Input = null);

/// <summary>A saga to start by its workflow's name and its input (JSON): the silo finds the definition.</summary>
[GenerateSerializer, Immutable, Alias("sagas.workflow-start")]
public sealed record WorkflowStart([property: Id(0)] string Workflow, [property: Id(1)] string Input);

public enum SagaStatus
{
    /// <summary>Running its steps forward.</summary>
    Running,

    /// <summary>A step failed (or the saga was cancelled): undoing the completed steps in reverse.</summary>
    Compensating,

    /// <summary>Every step ran.</summary>
    Completed,

    /// <summary>Every completed step was undone.</summary>
    Compensated,

    /// <summary>A compensation kept failing: parked for an operator, who can retry it.</summary>
    Failed,
}

public static class SagaStatuses
{
    public static bool IsTerminal(this SagaStatus status) => status is SagaStatus.Completed or SagaStatus.Compensated or SagaStatus.Failed;
}

/// <summary>
/// One line of a saga's timeline: a step's attempt starting or ending, how, and on which silo; for an
/// answer that wrote an event, where it is (a consistency token, <c>store:position</c>).
/// </summary>
[GenerateSerializer, Immutable, Alias("sagas.history-entry")]
public sealed record SagaHistoryEntry(int Step, string StepName, bool Compensation, int Attempt, string Outcome, string? Detail, DateTimeOffset At, string Silo, string? Token = null, CallRecord? Call = null);

/// <summary>What an HTTP call of a step was: the URL it went to, the status it got (none without an answer), how long it took.</summary>
[GenerateSerializer, Immutable, Alias("sagas.call-record")]
public sealed record CallRecord([property: Id(0)] string Method, [property: Id(1)] string Url, [property: Id(2)] int? Status, [property: Id(3)] double DurationMs);

[GenerateSerializer, Immutable, Alias("sagas.view")]
public sealed record SagaView(
    string SagaId,
    string Kind,
    SagaStatus Status,
    int Cursor,
    ImmutableArray<SagaStep> Steps,
    ImmutableArray<SagaHistoryEntry> History,
    string? FailureReason,
    DateTimeOffset CreatedAt,
    DateTimeOffset UpdatedAt,
    int? WorkflowVersion = null)
{
    /// <summary>
    /// The newest event the saga wrote in each store, as consistency tokens (<c>store:position</c>): pass them
    /// to a view query to read the saga's own writes.
    /// </summary>
    public ImmutableArray<string> Consistency => [.. History
        .Select(h => ConsistencyToken.TryParse(h.Token, out var token) ? token : null)
        .OfType<ConsistencyToken>()
        .GroupBy(t => t.Store, StringComparer.Ordinal)
        .Select(g => new ConsistencyToken(g.Key, g.Max(t => t.Position)).ToString())
        .Order(StringComparer.Ordinal)];
}

/// <summary>
/// The orchestrator of one saga (key: saga id). It persists "about to run step i" before calling the
/// participant and the outcome after, so it resumes from its last persisted point on any silo; the
/// supervisor's reminder wakes it if it stops moving while not terminal.
/// </summary>
[Alias("sagas.saga")]
public interface ISagaGrain : IGrainWithStringKey
{
    /// <summary>Starts the saga, or, if it already exists, answers what it is doing (one id starts one saga).</summary>
    Task<SagaView> Start(SagaDefinition definition);

    /// <summary>
    /// Starts a saga of a workflow by name (built-in or registered; its latest version) with its input, or, if it
    /// already exists, answers what it is doing. <see cref="ArgumentException"/> if there is no such workflow or the
    /// input does not match its schema.
    /// </summary>
    Task<SagaView> StartWorkflow(WorkflowStart start);

    [Orleans.Concurrency.AlwaysInterleave]
    Task<SagaView?> Get();

    /// <summary>Waits up to <paramref name="maxWait"/> (at most 4 s per call) for a terminal state, then answers the current view.</summary>
    [Orleans.Concurrency.AlwaysInterleave]
    Task<SagaView?> WaitForTerminal(TimeSpan maxWait);

    /// <summary>A running saga stops and compensates what it did. False if it is not running.</summary>
    Task<bool> Cancel(string reason);

    /// <summary>A parked (Failed) saga resumes its compensations. False if it is not parked.</summary>
    Task<bool> Retry();

    /// <summary>Makes sure a non-terminal saga is being driven (the supervisor calls it for sagas that stopped moving).</summary>
    Task Resume();

    /// <summary>
    /// A participant's callback for step <paramref name="step"/>, which answered 202 and promised one: its outcome
    /// (success with a body, or a rejection with a reason), honoured once, and only with the token of the current attempt.
    /// </summary>
    Task<CallbackResult> CompleteStep(string step, string token, bool succeeded, string? body, string? reason);
}

/// <summary>
/// One per cluster (key <see cref="DefaultKey"/>), kept alive by a reminder: every period it looks for
/// non-terminal sagas that have not moved for a while (their silo died) and resumes them on a live silo.
/// </summary>
[Alias("sagas.supervisor")]
public interface ISagaSupervisorGrain : IGrainWithStringKey
{
    const string DefaultKey = "default";

    /// <summary>Registers the supervisor's reminder; idempotent, called by every silo at start.</summary>
    Task Ensure();

    /// <summary>Resumes the stalled sagas now and says how many it found.</summary>
    Task<int> SweepNow();
}

/// <summary>What became of a participant's callback.</summary>
public enum CallbackResult
{
    /// <summary>The step took the outcome; the saga moves on.</summary>
    Completed,

    /// <summary>No step of the saga is waiting for a callback (it is done, was cancelled, or never waited), or there is no such saga.</summary>
    NotWaiting,

    /// <summary>The step waits, but not for this token (an earlier attempt's, or none of ours).</summary>
    WrongToken,
}

/// <summary>A saga as listed: id, kind, status, when it last moved.</summary>
[GenerateSerializer, Immutable, Alias("sagas.summary")]
public sealed record SagaSummary(string SagaId, string Kind, SagaStatus Status, int Cursor, DateTimeOffset CreatedAt, DateTimeOffset UpdatedAt);

/// <summary>Reads the saga table: list by status, for operators.</summary>
[Alias("sagas.directory")]
public interface ISagaDirectoryGrain : IGrainWithIntegerKey
{
    Task<ImmutableArray<SagaSummary>> List(SagaStatus? status, int limit);

    Task<ImmutableDictionary<SagaStatus, long>> Counts();
}
