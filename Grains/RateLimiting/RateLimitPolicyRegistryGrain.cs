using Reliability.Infrastructure;

namespace Reliability.RateLimiting;

/// <summary>
/// The durable policy list. Readers (the silos' caches) see a version only once it is stored: reads are
/// served from <see cref="_published"/>, which changes after a successful write, never before.
/// </summary>
public sealed class RateLimitPolicyRegistryGrain(
    [PersistentState("registry", StoreNames.RateLimiting)] IPersistentState<PolicyRegistryState> state) : Grain, IRateLimitPolicyRegistryGrain
{
    private PolicySet _published = PolicySet.Empty;

    public override async Task OnActivateAsync(CancellationToken cancellationToken)
    {
        if (!state.RecordExists)
        {
            var seeded = DefaultPolicies.All.Aggregate(state.State.Policies, (all, p) => all.SetItem(p.Name, p));
            await state.WriteAsync(new PolicyRegistryState(1, seeded), GrainContext);
        }

        Publish();
    }

    public async Task<PolicyChange> Upsert(RateLimitPolicy policy)
    {
        var errors = RateLimitRules.Check(policy);
        if (errors.Count > 0)
        {
            return new PolicyChange(false, state.State.Version, errors);
        }

        if (state.State.Policies.TryGetValue(policy.Name, out var current) && current == policy)
        {
            return PolicyChange.Applied(state.State.Version);
        }

        await state.WriteAsync(new PolicyRegistryState(state.State.Version + 1, state.State.Policies.SetItem(policy.Name, policy)), GrainContext);
        Publish();
        return PolicyChange.Applied(state.State.Version);
    }

    public async Task<PolicyChange> Remove(string name)
    {
        if (!state.State.Policies.ContainsKey(name))
        {
            return new PolicyChange(false, state.State.Version, [new FieldError("name", $"no policy named '{name}'")], NotFound: true);
        }

        await state.WriteAsync(new PolicyRegistryState(state.State.Version + 1, state.State.Policies.Remove(name)), GrainContext);
        Publish();
        return PolicyChange.Applied(state.State.Version);
    }

    public Task<PolicySet> GetAll() => Task.FromResult(_published);

    public Task<PolicySet?> GetIfNewer(long knownVersion) => Task.FromResult(_published.Version > knownVersion ? _published : null);

    private void Publish() => _published = new PolicySet(state.State.Version, state.State.Policies);
}
