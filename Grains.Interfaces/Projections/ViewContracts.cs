using System.Collections.Immutable;
using Reliability.Services;

namespace Reliability.Projections;

/// <summary>Something that folds projected events: all views take batches the same way.</summary>
public interface IProjectionViewGrain : IGrainWithStringKey
{
    /// <summary>
    /// Applies the events in order, skipping any at or below what it has applied; returns those it could not
    /// apply. <paramref name="epoch"/> names the runner's reading of its durable checkpoint: when it changes (the
    /// runner fell back to its checkpoint after a failure, or started again), the view first reads its own
    /// row again, since a database crash may have taken back writes it still holds in memory.
    /// </summary>
    Task<ImmutableArray<ApplyFailure>> Apply(ImmutableArray<ProjectedEvent> events, Guid epoch);

    /// <summary>Applies, once, an event it skipped earlier because it could not be applied; false if it still cannot.</summary>
    Task<bool> Replay(ProjectedEvent e);
}

public enum ReservationState
{
    Reserved,
    Released,
    Rejected,
}

[GenerateSerializer, Immutable, Alias("projections.reservation")]
public sealed record ReservationView(string Sku, int Quantity, ReservationState State);

/// <summary>One order joined across the order, inventory and payment services.</summary>
[GenerateSerializer, Immutable, Alias("projections.order-summary")]
public sealed record OrderSummary(
    string OrderId,
    string? CustomerId,
    OrderStatus Status,
    ImmutableArray<OrderLine> Lines,
    decimal Total,
    PaymentStatus Payment,
    ImmutableArray<ReservationView> Reservations,
    long Revision,
    DateTimeOffset UpdatedAt);

/// <summary>A customer's newest <see cref="MaxOrders"/> orders, newest first (older ones stay in their order summaries).</summary>
[GenerateSerializer, Immutable, Alias("projections.customer-orders")]
public sealed record CustomerOrders(string CustomerId, ImmutableArray<OrderSummary> Orders)
{
    public const int MaxOrders = 100;

    public CustomerOrders() : this("", [])
    {
    }
}

[GenerateSerializer, Immutable, Alias("projections.movement")]
public sealed record Movement(DateTimeOffset At, string Kind, decimal Amount, decimal BalanceAfter, string? Reference);

[GenerateSerializer, Immutable, Alias("projections.statement")]
public sealed record AccountStatement(string AccountId, bool Open, decimal Balance, long MovementCount, ImmutableArray<Movement> RecentMovements);

[GenerateSerializer, Immutable, Alias("projections.totals")]
public sealed record ShopTotals(ImmutableDictionary<OrderStatus, long> OrdersByStatus, decimal Revenue, long StockReserved, long EventsApplied);

[Alias("projections.order-summary-view")]
public interface IOrderSummaryViewGrain : IProjectionViewGrain
{
    [Orleans.Concurrency.AlwaysInterleave]
    Task<OrderSummary?> Get();
}

[Alias("projections.customer-orders-view")]
public interface ICustomerOrdersViewGrain : IGrainWithStringKey
{
    /// <summary>Keeps the newest revision of each of the customer's orders (the newest <c>CustomerOrders.MaxOrders</c> orders); <paramref name="epoch"/> as in <see cref="IProjectionViewGrain.Apply"/>.</summary>
    Task Upsert(OrderSummary summary, Guid epoch);

    [Orleans.Concurrency.AlwaysInterleave]
    Task<CustomerOrders> Get();
}

[Alias("projections.statement-view")]
public interface IAccountStatementViewGrain : IProjectionViewGrain
{
    [Orleans.Concurrency.AlwaysInterleave]
    Task<AccountStatement?> Get();
}

[Alias("projections.totals-view")]
public interface IShopTotalsViewGrain : IProjectionViewGrain
{
    [Orleans.Concurrency.AlwaysInterleave]
    Task<ShopTotals> Get();
}

/// <summary>View grain keys: projection, generation and the view's own key, with a non-hex prefix for the storage.</summary>
public static class ViewKeys
{
    public static string Of(string projection, int generation, string key) => $"v:{projection}:{generation}:{key}";

    /// <summary>The id inside a view grain's key: <c>v:orders:3:order:42</c> → <c>42</c>.</summary>
    public static string IdOf(string grainKey) => grainKey.Split(':', 5)[4];

    /// <summary>The projection and generation in a view grain's key: <c>v:orders:3:order:42</c> → (orders, 3).</summary>
    public static (string Projection, int Generation) ProjectionAndGenerationOf(string grainKey)
    {
        var parts = grainKey.Split(':', 4);
        return (parts[1], int.Parse(parts[2], System.Globalization.CultureInfo.InvariantCulture));
    }

    /// <summary>The key of another view of the same projection and generation: <c>v:orders:3:order:42</c>, <c>customer:7</c> → <c>v:orders:3:customer:7</c>.</summary>
    public static string Sibling(string grainKey, string key)
    {
        var parts = grainKey.Split(':', 4);
        return $"{parts[0]}:{parts[1]}:{parts[2]}:{key}";
    }

    public const string TotalsKey = "all";

    public const string OrderPrefix = "order:";
    public const string CustomerPrefix = "customer:";
    public const string AccountPrefix = "account:";
}
