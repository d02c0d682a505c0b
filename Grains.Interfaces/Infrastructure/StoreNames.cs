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

    /// <summary>Saga orchestration: the sagas table (state, history, status).</summary>
    public const string Sagas = "sagas";

    /// <summary>The order service's events.</summary>
    public const string Orders = "orders";

    /// <summary>The inventory service's events (per SKU: on hand, reserved).</summary>
    public const string Inventory = "inventory";

    /// <summary>The payment service's events (per payment record).</summary>
    public const string Payments = "payments";

    /// <summary>The account service's events (per account: balance).</summary>
    public const string Accounts = "accounts";

    /// <summary>Read models built from the services' events, with their checkpoints and parked events.</summary>
    public const string Projections = "projections";

    /// <summary>The four event-sourced services, each with an event table of its own.</summary>
    public static readonly IReadOnlyList<string> EventStores = [Orders, Inventory, Payments, Accounts];
}
