using Reliability.Infrastructure;

namespace Reliability.Idempotency;

/// <summary>Timings of idempotency keys (section <c>Idempotency</c>).</summary>
public sealed class IdempotencyOptions
{
    public const string SectionName = "Idempotency";

    /// <summary>How long a claim holds without completing; after it, the next request with the key takes over.</summary>
    public TimeSpan Lease { get; set; } = TimeSpan.FromSeconds(30);

    /// <summary>How long a completed key is replayed; after it, the key is free again and its row is swept.</summary>
    public TimeSpan Retention { get; set; } = TimeSpan.FromHours(24);

    /// <summary>How often expired rows are deleted (at least one minute: it runs on a reminder).</summary>
    public TimeSpan SweepPeriod { get; set; } = TimeSpan.FromMinutes(10);

    /// <summary>Rows are deleted this long after they expired, so no active key is ever swept from under it.</summary>
    public TimeSpan SweepGrace { get; set; } = TimeSpan.FromHours(1);

    public void Validate()
    {
        StartupException.Require(Lease >= TimeSpan.FromMilliseconds(100) && Lease <= TimeSpan.FromHours(1), $"Idempotency:Lease must be between 100ms and 1h (got {Lease}).");
        StartupException.Require(Retention >= TimeSpan.FromSeconds(1) && Retention <= TimeSpan.FromDays(30), $"Idempotency:Retention must be between 1s and 30 days (got {Retention}).");
        StartupException.Require(SweepPeriod >= TimeSpan.FromMinutes(1), $"Idempotency:SweepPeriod must be at least 1 minute (got {SweepPeriod}).");
        StartupException.Require(SweepGrace >= TimeSpan.Zero, $"Idempotency:SweepGrace must not be negative (got {SweepGrace}).");
    }
}
