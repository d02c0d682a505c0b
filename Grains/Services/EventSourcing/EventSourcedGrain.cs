using Microsoft.Extensions.DependencyInjection;
using Reliability.Services.EventStore;

namespace Reliability.Services.EventSourcing;

/// <summary>
/// A grain whose state is the fold of its stream's events. On activation it reads the stream and folds it;
/// a command is decided on the current state, its events appended at the expected version, then folded
/// in. Every event records the command that caused it, so a command id seen before answers its first
/// outcome and appends nothing (a saga retrying after a crash cannot apply twice). If another
/// activation appended first, the append fails on the version check: the grain reloads and decides again.
/// </summary>
public abstract class EventSourcedGrain<TState> : Grain where TState : class
{
    private readonly Dictionary<string, CommandResult> _processed = new(StringComparer.Ordinal);
    private IEventStore _store = null!;

    protected abstract string StoreName { get; }

    protected abstract string StreamPrefix { get; }

    protected abstract EventTypes Types { get; }

    protected abstract TState Initial { get; }

    protected TState State { get; private set; } = null!;

    protected int Version { get; private set; }

    protected string StreamId => $"{StreamPrefix}-{this.GetPrimaryKeyString()}";

    /// <summary>The pure fold: the state after one more event, written by <paramref name="commandId"/>.</summary>
    protected abstract TState Apply(TState state, object @event, string? commandId);

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _store = ServiceProvider.GetRequiredService<IEventStores>().For(StoreName);
        await LoadAsync(cancellationToken);
    }

    /// <summary>The first outcome of a command, if this stream has seen it.</summary>
    protected bool TryGetOutcome(string commandId, out CommandResult outcome) => _processed.TryGetValue(commandId, out outcome!);

    protected async Task<CommandResult> ExecuteAsync(string commandId, Func<TState, Decision> decide)
    {
        for (var attempt = 0; ; attempt++)
        {
            if (_processed.TryGetValue(commandId, out var first))
            {
                return first with { Duplicate = true };
            }

            var decision = decide(State);
            if (decision.Events.Count == 0)
            {
                return decision.WithoutEvents ?? CommandResult.Applied(0, Version);
            }

            var data = decision.Events.Select(e => new EventData(EventTypes.NameOf(e), Types.Serialize(e), commandId)).ToList();
            try
            {
                var appended = await _store.AppendAsync(StreamId, Version, data);
                foreach (var e in decision.Events)
                {
                    State = Apply(State, e, commandId);
                }

                Version = appended.Version;
                var result = Outcome(decision.Events[^1], appended.Positions[^1], appended.Version);
                _processed[commandId] = result;
                return result;
            }
            catch (ConcurrencyConflictException) when (attempt == 0)
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
    }

    private static CommandResult Outcome(object @event, long position, int version) => @event is IRejection rejection
        ? CommandResult.Rejected(rejection.Code, rejection.Message, position, version)
        : CommandResult.Applied(position, version);
}
