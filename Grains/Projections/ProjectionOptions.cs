using Reliability.Infrastructure;

namespace Reliability.Projections;

/// <summary>How projection runners read (section <c>Projections</c>).</summary>
public sealed class ProjectionOptions
{
    public const string SectionName = "Projections";

    /// <summary>The safety net under the nudges: a runner reads at least this often.</summary>
    public TimeSpan PollInterval { get; set; } = TimeSpan.FromSeconds(1);

    /// <summary>Period of each runner's reminder, which brings it back on another silo if its silo died while nothing was appended.</summary>
    public TimeSpan KeepAlivePeriod { get; set; } = TimeSpan.FromSeconds(10);

    /// <summary>Events read per source per round for the live generation.</summary>
    public int LiveBatch { get; set; } = 500;

    /// <summary>Events read per source per round while rebuilding.</summary>
    public int RebuildBatch { get; set; } = 20_000;

    /// <summary>View grains called at once by a runner; their writes reach PostgreSQL in batches of up to 256 views (see ViewStateStorage).</summary>
    public int MaxConcurrentDeliveries { get; set; } = 64;

    public void Validate()
    {
        StartupException.Require(PollInterval >= TimeSpan.FromMilliseconds(50) && PollInterval <= TimeSpan.FromMinutes(1), $"Projections:PollInterval must be between 50 ms and 1 min (got {PollInterval}).");
        StartupException.Require(KeepAlivePeriod >= TimeSpan.FromSeconds(1), $"Projections:KeepAlivePeriod must be at least 1 s (got {KeepAlivePeriod}).");
        StartupException.Require(LiveBatch is >= 1 and <= 100_000, $"Projections:LiveBatch must be between 1 and 100000 (got {LiveBatch}).");
        StartupException.Require(RebuildBatch is >= 1 and <= 100_000, $"Projections:RebuildBatch must be between 1 and 100000 (got {RebuildBatch}).");
        StartupException.Require(MaxConcurrentDeliveries is >= 1 and <= 10_000, $"Projections:MaxConcurrentDeliveries must be between 1 and 10000 (got {MaxConcurrentDeliveries}).");
    }
}
