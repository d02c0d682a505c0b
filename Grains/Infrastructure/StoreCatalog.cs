namespace Reliability.Infrastructure;

/// <summary>Every store of the toolkit and the schema each one carries.</summary>
public static class StoreCatalog
{
    private static readonly string[] GrainState = [SqlScripts.OrleansQueries, SqlScripts.OrleansPersistence];

    public static IReadOnlyList<StoreDefinition> All { get; } =
    [
        new(StoreNames.Cluster, [SqlScripts.OrleansQueries, SqlScripts.OrleansClustering, SqlScripts.OrleansReminders], IsGrainStorage: false),
        new(StoreNames.Diagnostics, GrainState, IsGrainStorage: true),
        new(StoreNames.RateLimiting, GrainState, IsGrainStorage: true),
        new(StoreNames.Idempotency, GrainState, IsGrainStorage: true),
        new(StoreNames.Carts, GrainState, IsGrainStorage: true),
        new(StoreNames.Sagas, [SqlScripts.Sagas], IsGrainStorage: false),
        new(StoreNames.Projections, [.. GrainState, SqlScripts.Projections], IsGrainStorage: true),
        .. StoreNames.EventStores.Select(name => new StoreDefinition(name, [SqlScripts.EventStore], IsGrainStorage: false)),
    ];

    public static IEnumerable<StoreDefinition> GrainStorage => All.Where(s => s.IsGrainStorage);
}
