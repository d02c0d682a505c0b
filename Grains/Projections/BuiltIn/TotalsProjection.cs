using System.Collections.Immutable;
using Reliability.Infrastructure;
using Reliability.Services;
using Reliability.Services.Inventory;
using Reliability.Services.Orders;
using Reliability.Services.Payments;

namespace Reliability.Projections.BuiltIn;

/// <summary>The <c>totals</c> projection: one view that sees the order lifecycle, order payments and reservations.</summary>
public static class TotalsProjection
{
    public static ProjectionDefinition Definition { get; } = new(
        ProjectionNames.Totals,
        [StoreNames.Orders, StoreNames.Inventory, StoreNames.Payments],
        meta => meta.Store switch
        {
            StoreNames.Orders => ViewRef.Single,
            StoreNames.Inventory when meta.Type is nameof(StockReserved) or nameof(StockReleased) => ViewRef.Single,
            StoreNames.Payments when meta.Type is nameof(PaymentCharged) or nameof(PaymentRefunded) && ProjectionEvents.IsOrderPayment(meta) => ViewRef.Single,
            _ => null,
        },
        (grains, key) => grains.GetGrain<IShopTotalsViewGrain>(key.GrainKey));
}

/// <summary>Shop-wide totals. Pure; only order payments count as revenue (transfers are not sales).</summary>
public static class TotalsFold
{
    public static ShopTotals Empty { get; } = new(ImmutableDictionary<OrderStatus, long>.Empty, 0, 0, 0);

    public static ShopTotals Apply(ShopTotals view, object @event, ProjectedEvent meta)
    {
        var next = @event switch
        {
            OrderCreated => Count(view, OrderStatus.Pending, +1),
            OrderConfirmed => Count(Count(view, OrderStatus.Pending, -1), OrderStatus.Confirmed, +1),
            OrderCancelled => Count(Count(view, OrderStatus.Pending, -1), OrderStatus.Cancelled, +1),
            PaymentCharged charged when ProjectionEvents.IsOrderPayment(meta) => view with { Revenue = view.Revenue + charged.Amount },
            PaymentRefunded refunded when ProjectionEvents.IsOrderPayment(meta) => view with { Revenue = view.Revenue - refunded.Amount },
            StockReserved reserved => view with { StockReserved = view.StockReserved + reserved.Quantity },
            StockReleased released => view with { StockReserved = view.StockReserved - released.Quantity },
            _ => view,
        };
        return next with { EventsApplied = view.EventsApplied + 1 };
    }

    private static ShopTotals Count(ShopTotals view, OrderStatus status, long delta) =>
        view with { OrdersByStatus = view.OrdersByStatus.SetItem(status, view.OrdersByStatus.GetValueOrDefault(status) + delta) };
}

/// <summary>Totals over the whole shop: sees every event of its stores in order, so it keeps one cursor per store.</summary>
[CollectionAgeLimit(Minutes = 5)]
public sealed class ShopTotalsViewGrain(
    [PersistentState("view", StoreNames.Projections)] IPersistentState<ViewState<ShopTotals>> state)
    : ProjectionViewGrain<ShopTotals>(state), IShopTotalsViewGrain
{
    protected override bool OrderedByStore => true;

    protected override ShopTotals Initial() => TotalsFold.Empty;

    protected override ShopTotals Fold(ShopTotals view, object @event, ProjectedEvent meta) => TotalsFold.Apply(view, @event, meta);

    public Task<ShopTotals> Get() => Task.FromResult(View ?? TotalsFold.Empty);
}
