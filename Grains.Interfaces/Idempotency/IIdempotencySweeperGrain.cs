namespace Reliability.Idempotency;

/// <summary>Deletes the rows of keys whose retention has passed, on a reminder (one sweeper per cluster, key <see cref="DefaultKey"/>).</summary>
[Alias("idempotency.sweeper")]
public interface IIdempotencySweeperGrain : IGrainWithStringKey
{
    const string DefaultKey = "default";

    /// <summary>Registers the sweep reminder; idempotent, called by every silo at start.</summary>
    Task Ensure();

    /// <summary>Sweeps now and returns how many rows were deleted.</summary>
    Task<long> SweepNow();
}
