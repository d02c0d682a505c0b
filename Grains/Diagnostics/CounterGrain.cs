using Reliability.Infrastructure;

namespace Reliability.Diagnostics;

public sealed class CounterGrain(
    [PersistentState("counter", StoreNames.Diagnostics)] IPersistentState<CounterState> state,
    ILocalSiloDetails silo) : Grain, ICounterGrain
{
    public async Task<CounterSnapshot> Add(long amount)
    {
        var current = state.State;
        await state.WriteAsync(current with { Total = current.Total + amount, Writes = current.Writes + 1 }, GrainContext);
        return Snapshot();
    }

    public Task<CounterSnapshot> Get() => Task.FromResult(Snapshot());

    private CounterSnapshot Snapshot() => new(state.State.Total, state.State.Writes, silo.Name);
}
