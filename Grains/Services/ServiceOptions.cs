using Reliability.Infrastructure;

namespace Reliability.Services;

/// <summary>How the event-sourced services bound what they keep (section <c>Services</c>).</summary>
public sealed class ServiceOptions
{
    public const string SectionName = "Services";

    /// <summary>
    /// How long a service keeps what a compensation may still need: a reservation to release, a refund or a
    /// tombstone (a compensation that ran before its action). Far longer than any saga's retry horizon
    /// (attempts × step timeout and backoff: minutes); a saga parked for longer than this must be settled
    /// by hand. Commands themselves are applied at most once for ever (the store refuses a command id twice).
    /// </summary>
    public TimeSpan DedupeWindow { get; set; } = TimeSpan.FromDays(7);

    /// <summary>How many of its latest commands a stream keeps in memory (and in its snapshot) to answer retries without a round trip.</summary>
    public int RecentCommands { get; set; } = 1_000;

    /// <summary>A stream writes a snapshot every this many events, so an activation reads at most that many.</summary>
    public int SnapshotEvery { get; set; } = 500;

    public void Validate()
    {
        StartupException.Require(DedupeWindow >= TimeSpan.FromMinutes(10), $"Services:DedupeWindow must be at least 10 minutes (got {DedupeWindow}).");
        StartupException.Require(SnapshotEvery is >= 10 and <= 1_000_000, $"Services:SnapshotEvery must be between 10 and 1,000,000 (got {SnapshotEvery}).");
        StartupException.Require(RecentCommands is >= 10 and <= 1_000_000, $"Services:RecentCommands must be between 10 and 1,000,000 (got {RecentCommands}).");
    }
}
