namespace Reliability.Infrastructure;

/// <summary>Names of the storage providers; each is its own schema (or database) in PostgreSQL.</summary>
public static class StoreNames
{
    /// <summary>Membership and reminders.</summary>
    public const string Cluster = "cluster";

    /// <summary>Grains used to prove the cluster itself: counters and reminder probes.</summary>
    public const string Diagnostics = "diagnostics";

    /// <summary>Rate-limit policies, and buckets saved when a subject goes idle with something still counted.</summary>
    public const string RateLimiting = "ratelimit";

    /// <summary>Idempotency keys: claims and stored responses.</summary>
    public const string Idempotency = "idempotency";

    /// <summary>Shopping carts, the textbook example of an idempotent POST.</summary>
    public const string Carts = "carts";
}
