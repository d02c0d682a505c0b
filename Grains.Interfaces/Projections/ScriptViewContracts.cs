using System.Collections.Immutable;

namespace Reliability.Projections;

/// <summary>A JavaScript view's state: the script's value as JSON, how many events made it, and when the last one was applied.</summary>
[GenerateSerializer, Immutable, Alias("projections.script-view")]
public sealed record ScriptView(string Json, long Events, DateTimeOffset UpdatedAt);

/// <summary>One view of a JavaScript projection (key: <c>v:{projection}:{generation}:{partition}</c>).</summary>
[Alias("projections.script-view-grain")]
public interface IScriptViewGrain : IProjectionViewGrain
{
    [Orleans.Concurrency.AlwaysInterleave]
    Task<ScriptView?> Get();
}

/// <summary>A registered version of a JavaScript projection.</summary>
[GenerateSerializer, Immutable, Alias("projections.script-definition")]
public sealed record ScriptDefinition(string Name, int Version, ImmutableArray<string> Stores, string Source, DateTimeOffset CreatedAt);

/// <summary>An event store that other services append to over HTTP (the built-in services' stores are not among them).</summary>
[GenerateSerializer, Immutable, Alias("projections.store-info")]
public sealed record StoreInfo(string Name, DateTimeOffset CreatedAt, bool OwnDatabase);
