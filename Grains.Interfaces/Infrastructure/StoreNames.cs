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

    /// <summary>Names no open store may take: every store of the toolkit, and PostgreSQL's own schemas.</summary>
    public static readonly IReadOnlySet<string> Reserved = new HashSet<string>(StringComparer.Ordinal)
    {
        Cluster, Diagnostics, RateLimiting, Idempotency, Carts, Sagas, Orders, Inventory, Payments, Accounts, Projections,
        "public", "information_schema", "pg_catalog", "pg_toast",
    };

    /// <summary>
    /// An open store's name: 2 to 40 lower-case letters, digits and underscores, starting with a letter
    /// (it names the store's schema), and not reserved.
    /// </summary>
    public static bool IsValidOpenStore(string? name) =>
        name is { Length: >= 2 and <= 40 } && name[0] is >= 'a' and <= 'z'
        && name.All(c => c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '_')
        && !name.StartsWith("pg_", StringComparison.Ordinal) && !Reserved.Contains(name);

    /// <summary>A store that holds events: a built-in service's, or (by its name) an open one.</summary>
    public static bool IsEventStore(string? name) => name is not null && (EventStores.Contains(name) || IsValidOpenStore(name));
}
