namespace Reliability.Infrastructure;

/// <summary>Every store of the toolkit and the schema each one carries.</summary>
public static class StoreCatalog
{
    private static readonly string[] GrainState = [SqlScripts.OrleansQueries, SqlScripts.OrleansPersistence];

    public static IReadOnlyList<StoreDefinition> All { get; } =
    [
        new(StoreNames.Cluster, [SqlScripts.OrleansQueries, SqlScripts.OrleansClustering, SqlScripts.OrleansReminders], IsGrainStorage: false),
        // Activation probes are rows of their own, written by the partition drills' probe grain.
        new(StoreNames.Diagnostics, [.. GrainState, SqlScripts.ActivationProbes], IsGrainStorage: true),
        new(StoreNames.RateLimiting, GrainState, IsGrainStorage: true),
        // Keys are grain state in a table of their own, written in batches (IdempotencyStorage); orleansstorage stays for rows written before it.
        new(StoreNames.Idempotency, [.. GrainState, SqlScripts.Idempotency], IsGrainStorage: false),
        new(StoreNames.Carts, GrainState, IsGrainStorage: true),
        new(StoreNames.Sagas, [SqlScripts.Sagas], IsGrainStorage: false),
        // Views are grain state too, but in a table of their own, written in batches (ViewStateStorage).
        // The list of open event stores and the JavaScript projections' scripts sit beside the projections' own tables.
        new(StoreNames.Projections, [SqlScripts.Projections, SqlScripts.OpenProjections], IsGrainStorage: false),
        .. StoreNames.EventStores.Select(name => new StoreDefinition(name, [SqlScripts.EventStore], IsGrainStorage: false)),
    ];

    /// <summary>An event store another service appends to over HTTP: the built-in services' event schema, in a schema of its own.</summary>
    public static StoreDefinition OpenStore(string name) => new(name, [SqlScripts.EventStore], IsGrainStorage: false);

    public static IEnumerable<StoreDefinition> GrainStorage => All.Where(s => s.IsGrainStorage);
}
