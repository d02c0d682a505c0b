using System.Collections.Immutable;
using Reliability.Projections.BuiltIn;

namespace Reliability.Projections;

/// <summary>
/// A projection's descriptor: the stores it reads, and for each event the view (typed, within the
/// projection) that folds it, or null for an event it does not need; and how to reach a view grain by its
/// key. Routing looks at the event's store, stream and type, and reads its payload only where the key is
/// in it, so most events are deserialized once, by their view. The runner, checkpoints, rebuilds,
/// parking and read-your-writes work for any descriptor: the built-in ones below, each in a folder of its
/// own beside its folds and grains, and JavaScript ones made from a script (see Scripts/).
/// </summary>
public sealed record ProjectionDefinition(
    string Name,
    ImmutableArray<string> Sources,
    Func<ProjectedEvent, ViewRef?> Route,
    Func<IGrainFactory, ViewKey, IProjectionViewGrain> View)
{
    /// <summary>
    /// The query of one view by its key, for <c>GET /api/views/{projection}/{kind}:{id}</c>: the view as its
    /// read type, or null when there is none of that kind and id. Left out, the projection is queried only
    /// through routes of its own.
    /// </summary>
    public Func<IGrainFactory, ViewKey, Task<object?>>? Read { get; init; }
}

public static class ProjectionDefinitions
{
    /// <summary>The built-in projections: the one list of them (their names are <see cref="ProjectionNames"/>, for clients).</summary>
    public static IReadOnlyList<ProjectionDefinition> All { get; } =
    [
        OrdersProjection.Definition,
        StatementsProjection.Definition,
        TotalsProjection.Definition,
    ];

    public static IReadOnlyList<string> Names { get; } = [.. All.Select(p => p.Name)];

    public static ProjectionDefinition? Find(string name) => All.FirstOrDefault(p => p.Name == name);
}
