using System.Diagnostics;
using System.Text.Json;
using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;
using Reliability.Infrastructure;
using Reliability.Sagas.Workflows;

namespace Reliability.Sagas;

/// <summary>
/// Drives one saga, one step per grain turn (a one-shot timer per step), so that reads, cancels and
/// retries get in between steps. Before a participant is called the attempt is persisted as started;
/// after, its outcome together with "about to run" the next step, so a step costs one write, and the
/// row is inserted already about to run the first step.
/// <para>
/// Crash recovery: the supervisor (one reminder for the cluster) resumes a non-terminal saga that
/// stopped writing, on another silo. It continues from its persisted state; an attempt that was in
/// flight is sent again with the same command id, and the participant answers its first outcome
/// instead of applying it twice.
/// </para>
/// <para>
/// A new saga reads nothing: Start inserts its row (one statement) and reads only if the id exists.
/// </para>
/// <para>
/// Reads interleave with everything (a client polls while the saga runs), so they never load state of
/// their own: an activation loads once, shared by whoever needs it first, and a load that finishes after
/// a write of the activation's own is dropped, since what was written is newer.
/// </para>
/// <para>
/// A saga is busy for a moment and then only read now and then, so an idle one is collected after two
/// minutes instead of Orleans' fifteen; its state is in its row.
/// </para>
/// </summary>
[CollectionAgeLimit(Minutes = 2)]
public sealed partial class SagaGrain(
    ISagaStore store,
    SagaMachine machine,
    IParticipantGateway participants,
    HttpParticipant http,
    WorkflowCatalog workflows,
    SagaMetrics metrics,
    IOptions<SagaOptions> options,
    FaultDice dice,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<SagaGrain> logger) : Grain, ISagaGrain
{
    private SagaState? _state;
    private bool _loaded;
    private int _version;
    private bool _reload;
    private Task? _loading;
    private int _writes;
    private SagaView? _published;
    private IGrainTimer? _drive;
    private bool _resendWaiting;
    private TaskCompletionSource _terminal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string SagaId => this.GetPrimaryKeyString();

    public async Task<SagaView> Start(SagaDefinition definition)
    {
        if (_state is null)
        {
            var now = time.GetUtcNow();
            var started = machine.Begin(machine.Start(SagaId, definition, now) with { TraceParent = Activity.Current?.Id }, now, silo.Name);
            if (await store.InsertAsync(started))
            {
                (_state, _version, _loaded) = (started, 1, true);
                _writes++;
                Publish();
                metrics.Started(definition.Kind);
                LogStarted(SagaId, definition.Kind, definition.Steps.Length);
            }
            else
            {
                await ReloadAsync();
            }

            ScheduleDrive(TimeSpan.Zero);
        }

        return _published!;
    }

    public async Task<SagaView> StartWorkflow(WorkflowStart start)
    {
        if (_state is not null)
        {
            return _published!;
        }

        using var input = JsonDocument.Parse(start.Input);
        var (definition, errors, found) = await workflows.PrepareAsync(start.Workflow, input.RootElement);
        return definition is not null
            ? await Start(definition)
            : throw new ArgumentException(found
                ? $"The input does not match workflow {start.Workflow}'s schema: {string.Join("; ", errors)}"
                : $"There is no workflow '{start.Workflow}'.", nameof(start));
    }

    public async Task<SagaView?> Get()
    {
        await EnsureLoadedAsync();
        return _published;
    }

    public async Task Resume()
    {
        await EnsureLoadedAsync();
        if (_state is { } state && !state.Status.IsTerminal() && _drive is null)
        {
            ScheduleDrive(TimeSpan.Zero);
        }
    }

    public async Task<SagaView?> WaitForTerminal(TimeSpan maxWait)
    {
        await EnsureLoadedAsync();
        if (_published is null || _published.Status.IsTerminal())
        {
            return _published;
        }

        var cap = TimeSpan.FromSeconds(4);
        await Task.WhenAny(_terminal.Task, Task.Delay(maxWait < cap ? maxWait : cap, time));
        return _published;
    }

    public Task<bool> Cancel(string reason) =>
        CommandAsync(state => machine.Cancel(state, reason, time.GetUtcNow()), () => { });

    public Task<bool> Retry() =>
        CommandAsync(state => machine.Retry(state, time.GetUtcNow()),
            () => _terminal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously));

    /// <summary>
    /// An operator's command over the current state. If another activation moved the saga on since this one
    /// read it (two activations for a moment during a partition), the version check refuses the write: the
    /// command is then decided again over the state that activation wrote.
    /// </summary>
    private async Task<bool> CommandAsync(Func<SagaState, SagaState?> decide, Action applied)
    {
        for (var attempt = 1; ; attempt++)
        {
            await EnsureCurrentAsync();
            if (_state is null || decide(_state) is not { } next)
            {
                return false;
            }

            try
            {
                _state = next;
                await SaveAsync();
            }
            catch (SagaConflictException) when (attempt < 3)
            {
                continue;
            }

            applied();
            ScheduleDrive(TimeSpan.Zero);
            return true;
        }
    }

    private async Task DriveAsync(CancellationToken cancellationToken)
    {
        _drive = null;
        try
        {
            await EnsureCurrentAsync();
            if (_state is null)
            {
                return;
            }

            var action = machine.Next(_state, time.GetUtcNow());
            if (_resendWaiting && _state.Pending is { PollUrl: null } && action.Kind == SagaActionKind.Wait)
            {
                // Loaded while a step waits for its callback (its silo died, or it was collected): the participant would call
                // an address that may be gone. The call is sent again (same key, fresh token, this silo's address); the
                // participant answers it with its result, or 202 and calls back here.
                var step = _state.Steps[_state.Cursor];
                action = new SagaAction(SagaActionKind.Run, _state.Cursor, action.Compensation, action.Compensation ? step.Compensation : step.Action, TimeSpan.Zero);
            }

            _resendWaiting = false;
            switch (action.Kind)
            {
                case SagaActionKind.Finished:
                    Finish();
                    return;
                case SagaActionKind.Wait:
                    ScheduleDrive(action.Wait);
                    return;
                case SagaActionKind.Expire:
                    _state = machine.Expire(_state, time.GetUtcNow(), dice.Next(), silo.Name);
                    await AdvanceAsync();
                    return;
                case SagaActionKind.Poll:
                    var polled = await PollAsync(action);
                    _state = polled.Kind == StepOutcomeKind.Accepted
                        ? machine.Polled(_state, time.GetUtcNow())
                        : machine.Settle(_state, polled, time.GetUtcNow(), dice.Next(), silo.Name);
                    await AdvanceAsync();
                    return;
            }

            if (!_state.InFlight)
            {
                _state = machine.Begin(_state, time.GetUtcNow(), silo.Name);
                await SaveAsync();
            }

            string? token = null;
            if (_state.Steps[action.Step].Policy is { Completion: StepCompletion.Callback })
            {
                // A fresh one-time token per attempt, durable before the request carries it: only the latest attempt's callback counts.
                token = CallbackTokens.New();
                _state = _state with { CallbackTokenHash = CallbackTokens.Hash(token) };
                await SaveAsync();
            }

            var outcome = await CallAsync(action, token);
            _state = machine.Record(_state, outcome, time.GetUtcNow(), dice.Next(), silo.Name);
            await AdvanceAsync();
        }
        catch (SagaConflictException)
        {
            // Another activation of this saga moved it (two activations for a moment during a failover): follow it.
            _reload = true;
            ScheduleDrive(TimeSpan.FromMilliseconds(200));
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // The saga's own store is unreachable: what is in memory may not be durable, so start again from the store.
            LogStoreUnavailable(SagaId, ex.Message);
            _reload = true;
            ScheduleDrive(TimeSpan.FromSeconds(1));
        }
    }

    /// <summary>After an outcome: "about to run" the next step in the same write, then the next drive (or the end).</summary>
    private async Task AdvanceAsync()
    {
        var next = machine.Next(_state!, time.GetUtcNow());
        if (next.Kind == SagaActionKind.Run)
        {
            _state = machine.Begin(_state!, time.GetUtcNow(), silo.Name);
        }

        await SaveAsync();
        if (_state!.Status.IsTerminal())
        {
            metrics.Ended(_state.Kind, _state.Status);
            Finish();
        }
        else
        {
            ScheduleDrive(next.Kind == SagaActionKind.Wait ? next.Wait : TimeSpan.Zero);
        }
    }

    public async Task<CallbackResult> CompleteStep(string step, string token, bool succeeded, string? body, string? reason)
    {
        await EnsureCurrentAsync();
        if (_state is not { Pending: { PollUrl: null } } state || state.Status.IsTerminal() || state.Steps[state.Cursor].Name != step)
        {
            return CallbackResult.NotWaiting;
        }

        if (!CallbackTokens.Matches(token, state.CallbackTokenHash))
        {
            return CallbackResult.WrongToken;
        }

        var outcome = succeeded
            ? new StepOutcome(StepOutcomeKind.Succeeded, "completed by the participant's callback", Response: HttpParticipant.Kept(200, body))
            : new StepOutcome(StepOutcomeKind.Rejected, $"rejected by the participant's callback: {reason ?? "no reason given"}");
        _state = machine.Settle(state, outcome, time.GetUtcNow(), dice.Next(), silo.Name);
        try
        {
            await AdvanceAsync();
        }
        catch
        {
            // Not durable: the participant is told to call again (the token stays valid, as the stored state still waits for it).
            _reload = true;
            ScheduleDrive(TimeSpan.FromMilliseconds(200));
            throw;
        }

        return CallbackResult.Completed;
    }

    private async Task<StepOutcome> PollAsync(SagaAction action)
    {
        var state = _state!;
        var policy = state.Steps[action.Step].Policy ?? WorkflowParser.DefaultPolicy;
        return await http.PollAsync(state.Pending!.PollUrl!, new StepCall(SagaId, state.Steps[action.Step].Name, action.Compensation, state.Input, state.Responses, policy), CancellationToken.None);
    }

    /// <summary>Runs the step's command; anything but an answer from the participant is a transient failure.</summary>
    private async Task<StepOutcome> CallAsync(SagaAction action, string? callbackToken)
    {
        var step = _state!.Steps[action.Step];
        if (action.Command is null)
        {
            return StepOutcome.Succeeded;
        }

        var started = time.GetTimestamp();
        // A step runs from a timer, maybe on another silo after a crash: its parent is the stored context of the request that started the saga.
        ActivityContext.TryParse(_state.TraceParent, null, isRemote: true, out var parent);
        using var span = ToolkitTelemetry.SagaSource.StartActivity($"saga step {step.Name}", ActivityKind.Internal, parent);
        span?.SetTag("saga.id", SagaId);
        span?.SetTag("saga.workflow", _state.Kind);
        span?.SetTag("orleans.silo", silo.Name);
        span?.SetTag("saga.step", step.Name);
        span?.SetTag("saga.direction", action.Compensation ? "compensation" : "action");
        var outcome = await RunStepAsync(step.Name, action, callbackToken);
        span?.SetTag("saga.outcome", outcome.Kind.ToString());
        if (outcome.Kind != StepOutcomeKind.Succeeded)
        {
            span?.SetStatus(ActivityStatusCode.Error, outcome.Detail);
        }

        metrics.StepCalled(_state.Kind, step.Name.Split('[')[0], action.Compensation, outcome.Kind, time.GetElapsedTime(started));
        return outcome;
    }

    private async Task<StepOutcome> RunStepAsync(string step, SagaAction action, string? callbackToken)
    {
        var state = _state!;
        if (action.Command is HttpCall call)
        {
            var policy = state.Steps[action.Step].Policy ?? WorkflowParser.DefaultPolicy;
            return await http.CallAsync(call, new StepCall(SagaId, step, action.Compensation, state.Input, state.Responses, policy, callbackToken, state.Steps[action.Step].Item), CancellationToken.None);
        }

        var command = action.Command!;
        if (command is ServiceCall service)
        {
            try
            {
                command = ServiceCommands.Resolve(service, HttpParticipant.Context(state.Input, state.Responses, state.Steps[action.Step].Item));
            }
            catch (TemplateException ex)
            {
                return new StepOutcome(StepOutcomeKind.Rejected, ex.Message);
            }
        }

        var timeout = state.Steps[action.Step].Policy?.Timeout ?? options.Value.StepTimeout;
        try
        {
            return await participants.ExecuteAsync(step, command, SagaMachine.CommandId(SagaId, action.Step, action.Compensation),
                    SagaMachine.CommandId(SagaId, action.Step, compensation: false), CancellationToken.None)
                .WaitAsync(timeout);
        }
        catch (TimeoutException)
        {
            return new StepOutcome(StepOutcomeKind.Failed, $"no answer within {timeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new StepOutcome(StepOutcomeKind.Failed, ex.Message);
        }
    }

    /// <summary>
    /// Writes the state over the version read. If the write fails (refused by the version check, or the store
    /// is unreachable), what is in memory is not durable: the next command or drive reloads before acting.
    /// </summary>
    private async Task SaveAsync()
    {
        _writes++;
        try
        {
            _version = await store.UpdateAsync(_state!, _version);
        }
        catch
        {
            _reload = true;
            throw;
        }

        Publish();
    }

    /// <summary>For reads: the state as this activation knows it, loaded once if it has not been yet.</summary>
    private Task EnsureLoadedAsync() => _loaded ? Task.CompletedTask : ReloadAsync();

    /// <summary>For commands and the driver: also reloads after a version conflict or a failed write said memory may be behind.</summary>
    private Task EnsureCurrentAsync() => _loaded && !_reload ? Task.CompletedTask : ReloadAsync();

    /// <summary>One load at a time, shared by every caller that needs it meanwhile.</summary>
    private Task ReloadAsync() => _loading is { IsCompleted: false } running ? running : _loading = LoadOnceAsync();

    private async Task LoadOnceAsync()
    {
        var writes = _writes;
        var loaded = await store.LoadAsync(SagaId);
        if (writes != _writes)
        {
            // This activation wrote while the load was out: what it wrote is newer than what was read.
            return;
        }

        (_state, _version) = loaded is { } found ? (found.State, found.Version) : (null, 0);
        (_reload, _loaded) = (false, true);
        _resendWaiting = _state?.Pending is { PollUrl: null };
        Publish();
    }

    private void Finish()
    {
        _terminal.TrySetResult();
        if (_state!.Status == SagaStatus.Failed)
        {
            LogParked(SagaId, _state.FailureReason);
        }
        else
        {
            LogFinished(SagaId, _state.Status);
        }
    }

    private void ScheduleDrive(TimeSpan due)
    {
        _drive?.Dispose();
        _drive = this.RegisterGrainTimer(DriveAsync, new GrainTimerCreationOptions(due < TimeSpan.Zero ? TimeSpan.Zero : due, Timeout.InfiniteTimeSpan) { KeepAlive = true });
    }

    private void Publish() => _published = _state?.ToView();

    [LoggerMessage(Level = LogLevel.Debug, Message = "Saga {SagaId} ({Kind}) started with {Steps} steps")]
    private partial void LogStarted(string sagaId, string kind, int steps);

    [LoggerMessage(Level = LogLevel.Debug, Message = "Saga {SagaId} finished: {Status}")]
    private partial void LogFinished(string sagaId, SagaStatus status);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga {SagaId} is parked for an operator: {Reason}")]
    private partial void LogParked(string sagaId, string? reason);

    [LoggerMessage(Level = LogLevel.Warning, Message = "Saga {SagaId} could not reach its store, retrying: {Reason}")]
    private partial void LogStoreUnavailable(string sagaId, string reason);
}
