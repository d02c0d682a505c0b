using System.Runtime;
using Orleans.Concurrency;

namespace Reliability.Diagnostics;

/// <summary>Runs on the silo that receives the call (a local stateless worker), for benchmarks of memory per activation.</summary>
[StatelessWorker(1)]
public sealed class SiloProbeGrain(ILocalSiloDetails silo) : Grain, ISiloProbeGrain
{
    public Task<SiloMemory> Measure()
    {
        GCSettings.LargeObjectHeapCompactionMode = GCLargeObjectHeapCompactionMode.CompactOnce;
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        GC.WaitForPendingFinalizers();
        GC.Collect(GC.MaxGeneration, GCCollectionMode.Forced, blocking: true, compacting: true);
        return Task.FromResult(new SiloMemory(silo.Name, GC.GetTotalMemory(forceFullCollection: false), Environment.WorkingSet));
    }
}
