using Microsoft.Extensions.DependencyInjection;
using Reliability.Projections;
using Reliability.Services.EventStore;

namespace Reliability.Services.EventSourcing;

/// <summary>
/// A grain whose state is the fold of its stream's events. On activation it reads the stream and folds it;
/// a command is decided on the current state, its events appended at the expected version, then folded
/// in. Every event records the command that caused it, so a command id seen before answers its first
/// outcome and appends nothing (a saga retrying after a crash cannot apply twice). If another
/// activation appended first, the append fails on the version check: the grain reloads and decides again.
/// After an append the silo's projection nudger is told, so the views see the events within milliseconds.
/// <para>
/// Most payment and order streams are new, so a fresh activation does not read first: its first command
/// is decided on the empty state and appended at version 0, which succeeds only if the stream is indeed
/// empty; a conflict (or a command that needs no event on an empty stream) loads the stream and decides again.
/// </para>
/// </summary>
public abstract class EventSourcedGrain<TState> : Grain where TState : class
{
    private readonly Dictionary<string, CommandResult> _processed = new(StringComparer.Ordinal);
    private IEventStore _store = null!;
    private IProjectionNudger? _nudger;
    private bool _loaded;

    protected abstract string StoreName { get; }

    protected abstract string StreamPrefix { get; }

    protected abstract EventTypes Types { get; }

    protected abstract TState Initial { get; }

    protected TState State { get; private set; } = null!;

    protected int Version { get; private set; }

    protected string StreamId => $"{StreamPrefix}-{this.GetPrimaryKeyString()}";

    /// <summary>The pure fold: the state after one more event, written by <paramref name="commandId"/>.</summary>
    protected abstract TState Apply(TState state, object @event, string? commandId);

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _store = ServiceProvider.GetRequiredService<IEventStores>().For(StoreName);
        _nudger = ServiceProvider.GetService<IProjectionNudger>();
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

    protected async Task<CommandResult> ExecuteAsync(string commandId, Func<TState, Decision> decide)
    {
        var conflicts = 0;
        while (true)
        {
            if (_processed.TryGetValue(commandId, out var first))
            {
                return first with { Duplicate = true };
            }

            var decision = decide(State);
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
                foreach (var e in decision.Events)
                {
                    State = Apply(State, e, commandId);
                }

                Version = appended.Version;
                _loaded = true;
                var result = Outcome(decision.Events[^1], appended.Positions[^1], appended.Version);
                _processed[commandId] = result;
                return result;
            }
            catch (ConcurrencyConflictException) when (conflicts++ < 2)
            {
                await LoadAsync(CancellationToken.None);
            }
        }
    }

    private async Task LoadAsync(CancellationToken cancellationToken)
    {
        var events = await _store.ReadStreamAsync(StreamId, cancellationToken);
        var state = Initial;
        _processed.Clear();
        foreach (var recorded in events)
        {
            var e = Types.Deserialize(recorded.Type, recorded.Payload);
            state = Apply(state, e, recorded.CommandId);
            if (recorded.CommandId is not null)
            {
                _processed[recorded.CommandId] = Outcome(e, recorded.Position, recorded.Version);
            }
        }

        State = state;
        Version = events.Count == 0 ? 0 : events[^1].Version;
        _loaded = true;
    }

    private static CommandResult Outcome(object @event, long position, int version) => @event is IRejection rejection
        ? CommandResult.Rejected(rejection.Code, rejection.Message, position, version)
        : CommandResult.Applied(position, version);
}
