namespace Reliability.Infrastructure;

/// <summary>A store and the schema scripts it needs, applied in order.</summary>
public sealed record StoreDefinition(string Name, IReadOnlyList<string> Scripts, bool IsGrainStorage);
