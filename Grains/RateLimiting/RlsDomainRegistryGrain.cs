using Reliability.Infrastructure;

namespace Reliability.RateLimiting;

/// <summary>The durable list of admin-set rate-limit service domains; a version is visible only once it is stored.</summary>
public sealed class RlsDomainRegistryGrain(
    [PersistentState("rls-domains", StoreNames.RateLimiting)] IPersistentState<RlsDomainSet> state) : Grain, IRlsDomainRegistryGrain
{
    private RlsDomainSet _published = new();

    public override Task OnActivateAsync(CancellationToken cancellationToken)
    {
        _published = state.State;
        return Task.CompletedTask;
    }

    public async Task<long> Set(string domain, string yaml)
    {
        if (state.State.Domains.TryGetValue(domain, out var current) && current == yaml)
        {
            return state.State.Version;
        }

        await state.WriteAsync(new RlsDomainSet(state.State.Version + 1, state.State.Domains.SetItem(domain, yaml)), GrainContext);
        _published = state.State;
        return state.State.Version;
    }

    public async Task<bool> Remove(string domain)
    {
        if (!state.State.Domains.ContainsKey(domain))
        {
            return false;
        }

        await state.WriteAsync(new RlsDomainSet(state.State.Version + 1, state.State.Domains.Remove(domain)), GrainContext);
        _published = state.State;
        return true;
    }

    public Task<RlsDomainSet> GetAll() => Task.FromResult(_published);

    public Task<RlsDomainSet?> GetIfNewer(long knownVersion) => Task.FromResult(_published.Version > knownVersion ? _published : null);
}
