using System.Text.Json;
using Microsoft.Extensions.DependencyInjection;
using Microsoft.Extensions.Options;
using Reliability.Projections;
using Reliability.Services.EventStore;

namespace Reliability.Services.EventSourcing;

/// <summary>
/// A grain whose state is the fold of its stream's events. On activation it reads the stream's latest
/// snapshot and the events after it; a command is decided on the current state, its events appended at
/// the expected version, then folded in. Every event records the command that caused it, so a command id
/// seen before answers its first outcome and appends nothing (a saga retrying after a crash cannot apply
/// twice). If another activation appended first, the append fails on the version check: the grain reloads
/// and decides again. After an append the silo's projection nudger is told, so the views see the events
/// within milliseconds.
/// <para>
/// What a stream keeps is bounded. A command is applied at most once however old it is: the store refuses
/// a second append of its id (<see cref="DuplicateCommandException"/>), and the grain then answers the
/// first outcome, read back from the store. In memory it keeps only its <see cref="ServiceOptions.RecentCommands"/>
/// latest commands, which answer a retry without a round trip; what compensations need is kept for the
/// dedupe window (<see cref="ServiceOptions.DedupeWindow"/>). It writes a snapshot every
/// <see cref="ServiceOptions.SnapshotEvery"/> events, so a busy stream's activation reads a snapshot and at
/// most that many events, however long its history.
/// </para>
/// <para>
/// Most payment and order streams are new, so a fresh activation does not read first: its first command
/// is decided on the empty state and appended at version 0, which succeeds only if the stream is indeed
/// empty; a conflict (or a command that needs no event on an empty stream) loads the stream and decides again.
/// </para>
/// </summary>
public abstract class EventSourcedGrain<TState> : Grain where TState : class
{
    private static readonly JsonSerializerOptions SnapshotJson = new(JsonSerializerDefaults.Web);

    private readonly Dictionary<string, CommandResult> _recent = new(StringComparer.Ordinal);
    private readonly Queue<string> _recentOrder = new();
    private IEventStore _store = null!;
    private IProjectionNudger? _nudger;
    private ServiceOptions _options = null!;
    private TimeProvider _time = null!;
    private bool _loaded;
    private int _snapshotVersion;

    protected abstract string StoreName { get; }

    protected abstract string StreamPrefix { get; }

    protected abstract EventTypes Types { get; }

    protected abstract TState Initial { get; }

    /// <summary>Bumped when <typeparamref name="TState"/> changes shape, so older snapshots are ignored (the events are folded again).</summary>
    protected virtual int SnapshotSchema => 1;

    protected TState State { get; private set; } = null!;

    protected int Version { get; private set; }

    protected string StreamId => $"{StreamPrefix}-{this.GetPrimaryKeyString()}";

    /// <summary>The pure fold: the state after one more event.</summary>
    protected abstract TState Apply(TState state, object @event, EventMeta meta);

    /// <summary>The state without what is older than <paramref name="before"/> that only a retry or a compensation could need.</summary>
    protected virtual TState Forget(TState state, DateTimeOffset before) => state;

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _store = ServiceProvider.GetRequiredService<IEventStores>().For(StoreName);
        _nudger = ServiceProvider.GetService<IProjectionNudger>();
        _options = ServiceProvider.GetService<IOptions<ServiceOptions>>()?.Value ?? new ServiceOptions();
        _time = ServiceProvider.GetService<TimeProvider>() ?? TimeProvider.System;
        State = Initial;
        return Task.CompletedTask;
    }

    /// <summary>The state, read from the stream first if this activation has not read it yet.</summary>
    protected async Task<TState> CurrentAsync()
    {
        if (!_loaded)
        {
            await LoadAsync(CancellationToken.None);
        }

        return State;
    }

    /// <summary>The store, for a decision that needs to look something up first (a compensation reading its action's event).</summary>
    protected IEventStore Store => _store;

    protected Task<CommandResult> ExecuteAsync(string commandId, Func<TState, Decision> decide) =>
        ExecuteAsync(commandId, state => ValueTask.FromResult(decide(state)));

    /// <summary>
    /// A command whose decision reads something first (a compensation looks up the event of its action); it
    /// is decided again, lookup included, after a version conflict.
    /// </summary>
    protected async Task<CommandResult> ExecuteAsync(string commandId, Func<TState, ValueTask<Decision>> decide)
    {
        var conflicts = 0;
        while (true)
        {
            if (_recent.TryGetValue(commandId, out var first))
            {
                return first with { Duplicate = true };
            }

            var decision = await decide(State);
            if (decision.Events.Count == 0)
            {
                if (!_loaded)
                {
                    // A refusal or a no-op on a stream not read yet (the state is the initial one): read it,
                    // and look again (the command may have run before).
                    await LoadAsync(CancellationToken.None);
                    continue;
                }

                return decision.WithoutEvents ?? CommandResult.Applied(0, Version);
            }

            var data = decision.Events.Select(e => new EventData(EventTypes.NameOf(e), Types.Serialize(e), commandId)).ToList();
            try
            {
                var appended = await _store.AppendAsync(StreamId, Version, data);
                _nudger?.Appended(StoreName);
                var now = _time.GetUtcNow();
                for (var i = 0; i < decision.Events.Count; i++)
                {
                    State = Apply(State, decision.Events[i], new EventMeta(i == 0 ? commandId : null, now));
                }

                Version = appended.Version;
                _loaded = true;
                var result = Outcome(decision.Events[^1], appended.Positions[^1], appended.Version);
                Remember(commandId, result);
                if (Version - _snapshotVersion >= _options.SnapshotEvery)
                {
                    await SnapshotAsync(now);
                }

                return result;
            }
            catch (ConcurrencyConflictException) when (conflicts++ < 2)
            {
                await LoadAsync(CancellationToken.None);
            }
            catch (DuplicateCommandException)
            {
                // Applied long ago (it has left the recent commands): answer what it answered then. The stream
                // may have moved too, so read it again.
                await LoadAsync(CancellationToken.None);
                if (await _store.FindCommandAsync(StreamId, commandId) is not { } recorded)
                {
                    throw;
                }

                var original = Outcome(Types.Deserialize(recorded.Type, recorded.Payload), recorded.Position, recorded.Version);
                Remember(commandId, original);
                return original with { Duplicate = true };
            }
        }
    }

    private void Remember(string commandId, CommandResult result)
    {
        if (_recent.TryAdd(commandId, result))
        {
            _recentOrder.Enqueue(commandId);
        }

        while (_recentOrder.Count > _options.RecentCommands)
        {
            _recent.Remove(_recentOrder.Dequeue());
        }
    }

    /// <summary>Forgets what has left the dedupe window, then keeps the state as a snapshot (a cache: a failure only costs the next activation time).</summary>
    private async Task SnapshotAsync(DateTimeOffset now)
    {
        State = Forget(State, now - _options.DedupeWindow);
        try
        {
            var state = JsonSerializer.Serialize(new SnapshotState(SnapshotSchema, State), SnapshotJson);
            var commands = JsonSerializer.Serialize(_recentOrder.Select(id => new RecentCommand(id, _recent[id])).ToList(), SnapshotJson);
            await _store.WriteSnapshotAsync(StreamId, new Snapshot(Version, state, commands));
            _snapshotVersion = Version;
        }
        catch (Exception ex) when (ex is not OperationCanceledException)
        {
            // Tried again after the next event.
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var state = Initial;
        var from = 0;
        _recent.Clear();
        _recentOrder.Clear();
        if (await _store.ReadSnapshotAsync(StreamId, cancellationToken) is { } snapshot && TryRestore(snapshot) is { } restored)
        {
            (state, from) = (restored, snapshot.Version);
        }

        var events = await _store.ReadStreamAsync(StreamId, from, cancellationToken);
        foreach (var recorded in events)
        {
            var e = Types.Deserialize(recorded.Type, recorded.Payload);
            state = Apply(state, e, new EventMeta(recorded.CommandId, recorded.RecordedAt));
            if (recorded.CommandId is not null)
            {
                Remember(recorded.CommandId, Outcome(e, recorded.Position, recorded.Version));
            }
        }

        State = Forget(state, _time.GetUtcNow() - _options.DedupeWindow);
        Version = events.Count == 0 ? from : events[^1].Version;
        _snapshotVersion = from;
        _loaded = true;
    }

    /// <summary>The snapshot's state (and its recent commands, remembered), or null if it is of an older shape or unreadable.</summary>
    private TState? TryRestore(Snapshot snapshot)
    {
        try
        {
            var stored = JsonSerializer.Deserialize<SnapshotState>(snapshot.State, SnapshotJson);
            var commands = JsonSerializer.Deserialize<List<RecentCommand>>(snapshot.Commands, SnapshotJson);
            if (stored is not { State: not null } || stored.Schema != SnapshotSchema || commands is null)
            {
                return null;
            }

            foreach (var command in commands)
            {
                Remember(command.Id, command.Result);
            }

            return stored.State;
        }
        catch (JsonException)
        {
            _recent.Clear();
            _recentOrder.Clear();
            return null;
        }
    }

    private static CommandResult Outcome(object @event, long position, int version) => @event is IRejection rejection
        ? CommandResult.Rejected(rejection.Code, rejection.Message, position, version)
        : CommandResult.Applied(position, version);

    /// <summary>One of the stream's recent commands and its outcome, as kept in a snapshot.</summary>
    private sealed record RecentCommand(string Id, CommandResult Result);

    private sealed record SnapshotState(int Schema, TState? State);
}
