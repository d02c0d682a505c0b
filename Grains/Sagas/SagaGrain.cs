using Microsoft.Extensions.Logging;
using Microsoft.Extensions.Options;

namespace Reliability.Sagas;

/// <summary>
/// Drives one saga, one step per grain turn (a one-shot timer per step), so that reads, cancels and
/// retries get in between steps. Before a participant is called the attempt is persisted as started;
/// after, its outcome together with "about to run" the next step, so a step costs one write.
/// <para>
/// Crash recovery: a reminder is registered before the saga's row exists and removed once it is
/// terminal, so a saga whose silo dies is activated again elsewhere within a reminder period. It
/// resumes from its persisted state; an attempt that was in flight is sent again with the same
/// command id, and the participant answers its first outcome instead of applying it twice.
/// </para>
/// </summary>
public sealed partial class SagaGrain(
    ISagaStore store,
    SagaMachine machine,
    IParticipantGateway participants,
    IOptions<SagaOptions> options,
    FaultDice dice,
    ILocalSiloDetails silo,
    TimeProvider time,
    ILogger<SagaGrain> logger) : Grain, ISagaGrain, IRemindable
{
    private const string KeepAlive = "keep-alive";

    private SagaState? _state;
    private int _version;
    private bool _reload;
    private SagaView? _published;
    private IGrainTimer? _drive;
    private TaskCompletionSource _terminal = new(TaskCreationOptions.RunContinuationsAsynchronously);

    private string SagaId => this.GetPrimaryKeyString();

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        await LoadAsync();
        if (_state is { } state && !state.Status.IsTerminal())
        {
            ScheduleDrive(TimeSpan.Zero);
        }
    }

    public async Task<SagaView> Start(SagaDefinition definition)
    {
        if (_state is null)
        {
            // The reminder first: if this silo dies before the row exists, the reminder finds no saga and goes away.
            await this.RegisterOrUpdateReminder(KeepAlive, options.Value.KeepAlivePeriod, options.Value.KeepAlivePeriod);
            var started = machine.Start(SagaId, definition, time.GetUtcNow());
            if (await store.InsertAsync(started))
            {
                _state = started;
                _version = 1;
                Publish();
                LogStarted(SagaId, definition.Kind, definition.Steps.Length);
            }
            else
            {
                await LoadAsync();
            }

            ScheduleDrive(TimeSpan.Zero);
        }

        return _published!;
    }

    public Task<SagaView?> Get() => Task.FromResult(_published);

    public async Task<SagaView?> WaitForTerminal(TimeSpan maxWait)
    {
        if (_published is null || _published.Status.IsTerminal())
        {
            return _published;
        }

        var cap = TimeSpan.FromSeconds(4);
        await Task.WhenAny(_terminal.Task, Task.Delay(maxWait < cap ? maxWait : cap, time));
        return _published;
    }

    public async Task<bool> Cancel(string reason)
    {
        if (_state is null || machine.Cancel(_state, reason, time.GetUtcNow()) is not { } cancelled)
        {
            return false;
        }

        _state = cancelled;
        await SaveAsync();
        ScheduleDrive(TimeSpan.Zero);
        return true;
    }

    public async Task<bool> Retry()
    {
        if (_state is null || machine.Retry(_state, time.GetUtcNow()) is not { } resumed)
        {
            return false;
        }

        await this.RegisterOrUpdateReminder(KeepAlive, options.Value.KeepAlivePeriod, options.Value.KeepAlivePeriod);
        _state = resumed;
        await SaveAsync();
        _terminal = new TaskCompletionSource(TaskCreationOptions.RunContinuationsAsynchronously);
        ScheduleDrive(TimeSpan.Zero);
        return true;
    }

    public async Task ReceiveReminder(string reminderName, TickStatus status)
    {
        if (_state is null || _state.Status.IsTerminal())
        {
            await ForgetReminderAsync();
        }
        else
        {
            ScheduleDrive(TimeSpan.Zero);
        }
    }

    private async Task DriveAsync(CancellationToken cancellationToken)
    {
        _drive = null;
        try
        {
            if (_reload)
            {
                await LoadAsync();
            }

            if (_state is null)
            {
                return;
            }

            var action = machine.Next(_state, time.GetUtcNow());
            switch (action.Kind)
            {
                case SagaActionKind.Finished:
                    await FinishAsync();
                    return;
                case SagaActionKind.Wait:
                    ScheduleDrive(action.Wait);
                    return;
            }

            if (!_state.InFlight)
            {
                _state = machine.Begin(_state, time.GetUtcNow(), silo.Name);
                await SaveAsync();
            }

            var outcome = await CallAsync(action);
            _state = machine.Record(_state, outcome, time.GetUtcNow(), dice.Next(), silo.Name);
            var next = machine.Next(_state, time.GetUtcNow());
            if (next.Kind == SagaActionKind.Run)
            {
                _state = machine.Begin(_state, time.GetUtcNow(), silo.Name);
            }

            await SaveAsync();
            if (_state.Status.IsTerminal())
            {
                await FinishAsync();
            }
            else
            {
                ScheduleDrive(next.Kind == SagaActionKind.Wait ? next.Wait : TimeSpan.Zero);
            }
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

    /// <summary>Runs the step's command; anything but an answer from the participant is a transient failure.</summary>
    private async Task<StepOutcome> CallAsync(SagaAction action)
    {
        var step = _state!.Steps[action.Step];
        if (action.Command is null)
        {
            return StepOutcome.Succeeded;
        }

        try
        {
            return await participants.ExecuteAsync(step.Name, action.Command, SagaMachine.CommandId(SagaId, action.Step, action.Compensation),
                    SagaMachine.CommandId(SagaId, action.Step, compensation: false), CancellationToken.None)
                .WaitAsync(options.Value.StepTimeout);
        }
        catch (TimeoutException)
        {
            return new StepOutcome(StepOutcomeKind.Failed, $"no answer within {options.Value.StepTimeout.TotalSeconds:0.#} s");
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            return new StepOutcome(StepOutcomeKind.Failed, ex.Message);
        }
    }

    private async Task SaveAsync()
    {
        _version = await store.UpdateAsync(_state!, _version);
        Publish();
    }

    private async Task LoadAsync()
    {
        var loaded = await store.LoadAsync(SagaId);
        (_state, _version) = loaded is { } found ? (found.State, found.Version) : (null, 0);
        _reload = false;
        Publish();
    }

    private async Task FinishAsync()
    {
        await ForgetReminderAsync();
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

    private async Task ForgetReminderAsync()
    {
        if (await this.GetReminder(KeepAlive) is { } reminder)
        {
            await this.UnregisterReminder(reminder);
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
