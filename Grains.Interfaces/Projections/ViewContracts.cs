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

/// <summary>A view within its projection: its kind (<c>order</c>, <c>customer</c>, <c>account</c>, <c>all</c>, <c>key</c>) and its id (none for a projection's single view).</summary>
public readonly record struct ViewRef(string Kind, string? Id)
{
    public static ViewRef Order(string orderId) => new("order", orderId);

    public static ViewRef Customer(string customerId) => new("customer", customerId);

    public static ViewRef Account(string accountId) => new("account", accountId);

    /// <summary>The one view of a projection that has one (shop totals).</summary>
    public static ViewRef Single { get; } = new("all", null);

    /// <summary>A view of a JavaScript projection, by the key its script's <c>partitionBy</c> gave.</summary>
    public static ViewRef Partition(string key) => new("key", key);

    public override string ToString() => Id is null ? Kind : $"{Kind}:{Id}";
}

/// <summary>
/// A view grain's key: the projection, the generation of its views, and the view. Written
/// <c>v:{projection}:{generation}:{kind}[:{id}]</c> (a non-hex prefix for the storage); the id may hold colons.
/// This is the one place that reads or writes that text.
/// </summary>
public readonly record struct ViewKey(string Projection, int Generation, ViewRef View)
{
    public string GrainKey => $"{Prefix(Projection, Generation)}{View}";

    /// <summary>Another view of the same projection and generation (an order summary passes itself on to its customer's view).</summary>
    public ViewKey Sibling(ViewRef view) => this with { View = view };

    /// <summary>The start of every grain key of a generation (to drop or list its views); with a kind, of that kind's views.</summary>
    public static string Prefix(string projection, int generation, string? kind = null) =>
        kind is null ? $"v:{projection}:{generation}:" : $"v:{projection}:{generation}:{kind}:";

    public static ViewKey Parse(string grainKey)
    {
        var parts = grainKey.Split(':', 5);
        return parts.Length >= 4 && parts[0] == "v" && int.TryParse(parts[2], System.Globalization.NumberStyles.None, System.Globalization.CultureInfo.InvariantCulture, out var generation)
            ? new ViewKey(parts[1], generation, new ViewRef(parts[3], parts.Length == 5 ? parts[4] : null))
            : throw new FormatException($"'{grainKey}' is not a view grain key (v:projection:generation:kind[:id]).");
    }

    public override string ToString() => GrainKey;
}
