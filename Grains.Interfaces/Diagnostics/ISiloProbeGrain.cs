namespace Reliability.Diagnostics;

/// <summary>Memory of the silo the call lands on, measured after a full, compacting collection.</summary>
[GenerateSerializer, Immutable, Alias("diagnostics.silo-memory")]
public sealed record SiloMemory(string Silo, long ManagedHeapBytes, long WorkingSetBytes);

[Alias("diagnostics.silo-probe")]
public interface ISiloProbeGrain : IGrainWithIntegerKey
{
    Task<SiloMemory> Measure();
}
